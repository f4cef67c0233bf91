// The core as an Arduino library zip: read back with Info-ZIP's unzip (not our writer's code),
// laid out as arduino-cli lib install --zip-path expects, nothing of the sketch or its config in
// it, and a sketch-like file using <lifelog/...> compiles against what the zip unpacks to.
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { LIBRARY_HEADER, LIBRARY_NAME, writeLibraryZip } from "../../scripts/firmware/arduino-library.ts";
import { tempDir } from "../support/temp.ts";

const run = promisify(execFile);
const CORE = join(import.meta.dirname, "..", "..", "firmware-config", "core");

describe("Arduino library packaging of the core", () => {
  it("zips library.properties and src/ under one top folder, every core header in src/lifelog/ and every source in src/", async () => {
    const dir = await tempDir("lifelog-lib-");
    const zip = join(dir, "lifelog-core.zip");
    await writeLibraryZip(zip);
    const again = join(dir, "again.zip");
    await writeLibraryZip(again);
    expect((await readFile(again)).equals(await readFile(zip))).toBe(true); // reproducible

    await run("unzip", ["-tq", zip]); // every entry's CRC checks out
    const { stdout } = await run("unzip", ["-Z1", zip]);
    const entries = stdout.trim().split("\n").sort();
    expect(new Set(entries.map((e) => e.split("/")[0]))).toEqual(new Set([LIBRARY_NAME]));
    const inside = entries.map((e) => e.slice(LIBRARY_NAME.length + 1));
    const headers = (await readdir(join(CORE, "include", "lifelog"))).filter((f) => f.endsWith(".h")).sort();
    const sources = (await readdir(join(CORE, "src"))).filter((f) => f.endsWith(".cpp")).sort();
    expect(inside).toEqual([
      "library.properties",
      ...[LIBRARY_HEADER, ...sources].sort().map((f) => `src/${f}`),
      ...headers.map((h) => `src/lifelog/${h}`),
    ].sort());
    const glue = await readdir(join(CORE, "..", "sketch")); // the sketch's own files stay out
    expect(inside.filter((f) => glue.includes(f.split("/").at(-1)!) || f.endsWith("lifelog_config.h"))).toEqual([]);

    await run("unzip", ["-q", zip, "-d", dir]);
    const top = join(dir, LIBRARY_NAME);
    const props = Object.fromEntries((await readFile(join(top, "library.properties"), "utf8")).trim().split("\n")
      .map((l) => l.split("=", 2) as [string, string]));
    expect(props).toMatchObject({ name: LIBRARY_NAME, architectures: "*" });
    for (const key of ["version", "author", "maintainer", "sentence", "paragraph", "category", "url"]) expect(props[key]).toBeTruthy();
    expect(props.version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const h of headers) {
      expect(await readFile(join(top, "src", "lifelog", h))).toEqual(await readFile(join(CORE, "include", "lifelog", h)));
    }

    // As Arduino builds a library: its src/ on the include path; a sketch includes <lifelog/...>.
    const sketch = join(dir, "uses_library.cpp");
    await writeFile(sketch, [
      `#include <${LIBRARY_HEADER}>`,
      "#include <lifelog/uploader.h>",
      "int main() { lifelog::UploaderConfig cfg; return int(cfg.loads_per_step == 0); }",
      "",
    ].join("\n"));
    const flags = ["-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-fno-exceptions", "-fno-rtti", "-I", join(top, "src")];
    await run("g++", [...flags, sketch]);
    for (const s of sources) await run("g++", [...flags, join(top, "src", s)]);
  }, 240_000);
});
