// Bundles the CLI into one ESM file that `npx`, the package's bin and plain `node` run.
// Usage: tsx scripts/cli/build.ts [outfile]   (npm run build)
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const PACKAGE_ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const DEFAULT_OUTFILE = join(PACKAGE_ROOT, "dist", "lifelog-devices.mjs");

// Bundled CommonJS dependencies (qrcode) call require() for Node built-ins, which ESM lacks.
const BANNER = [
  "#!/usr/bin/env node",
  'import { createRequire as __lifelogCreateRequire } from "node:module";',
  "const require = __lifelogCreateRequire(import.meta.url);",
].join("\n");

export async function buildCli(outfile = DEFAULT_OUTFILE): Promise<string> {
  await build({
    entryPoints: [join(PACKAGE_ROOT, "scripts", "cli", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: BANNER },
    logLevel: "warning",
    legalComments: "none",
    // native (libvips): loaded from node_modules, where npm installs it with the package
    external: ["sharp"],
  });
  await chmod(outfile, 0o755);
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`built ${await buildCli(process.argv[2])}`);
}
