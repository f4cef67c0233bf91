// The portable core (firmware-config/core) in the layout Arduino builds a library from, shared
// by the library zip (arduino-library.ts) and the sketch that bundles the core (render-sketch.ts):
// an umbrella header src/LifelogCore.h, the headers in src/lifelog/, the sources flat in src/.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const LIBRARY_NAME = "LifelogCore";
/** The header a sketch includes first, so the IDE and arduino-cli find the library by it. */
export const LIBRARY_HEADER = `${LIBRARY_NAME}.h`;
export const DEFAULT_FIRMWARE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "firmware-config");

/** The names of the files directly in dir that end with suffix, sorted. */
export async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => e.name).sort();
}

export async function coreHeaderNames(firmwareRoot = DEFAULT_FIRMWARE_ROOT): Promise<string[]> {
  return listFiles(join(firmwareRoot, "core", "include", "lifelog"), ".h");
}

function umbrellaHeader(headers: string[]): string {
  return [
    "// Includes every header of the lifelog core; a sketch may include single ones instead",
    "// (#include <lifelog/uploader.h>) once this library is found. The rendered sketch includes",
    "// this one (through its lifelog_core.h), bundled in its src/ or from the installed library.",
    "#pragma once",
    ...headers.map((h) => `#include "lifelog/${h}"`),
    "",
  ].join("\n");
}

/**
 * The core in the layout both the library and the bundled sketch use, paths relative to the
 * library's (or the sketch's) folder: src/LifelogCore.h, src/lifelog/*.h, src/*.cpp.
 */
export async function coreSourceFiles(firmwareRoot = DEFAULT_FIRMWARE_ROOT): Promise<Map<string, Buffer>> {
  const headersDir = join(firmwareRoot, "core", "include", "lifelog");
  const sourcesDir = join(firmwareRoot, "core", "src");
  const headers = await coreHeaderNames(firmwareRoot);
  const files = new Map<string, Buffer>();
  files.set(`src/${LIBRARY_HEADER}`, Buffer.from(umbrellaHeader(headers)));
  for (const h of headers) files.set(`src/lifelog/${h}`, await readFile(join(headersDir, h)));
  for (const c of await listFiles(sourcesDir, ".cpp")) files.set(`src/${c}`, await readFile(join(sourcesDir, c)));
  return files;
}
