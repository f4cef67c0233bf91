// The package folder, found from this module's location: scripts/cli/ when run from source,
// dist/ when bundled. The renderer's firmware templates live there, not next to the bundle.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "lifelog-devices";

function findPackageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && existsSync(join(dir, "firmware-config"))) {
      try {
        if (JSON.parse(readFileSync(manifest, "utf8")).name === PACKAGE_NAME) return dir;
      } catch {
        /* not ours: keep looking */
      }
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package above ${from}`);
  }
}

export function firmwareRoot(): string {
  return join(findPackageRoot(), "firmware-config");
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(findPackageRoot(), "package.json"), "utf8")).version;
}
