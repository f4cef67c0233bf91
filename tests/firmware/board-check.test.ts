// The board check (scripts/board-check/run.sh: the sketch against the real arduino-esp32 3.1.3
// headers in ../shared) must refuse a call the real SD library does not declare. The clean run
// itself is part of `npm test`; this shows the check can fail. Skipped without ../shared.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { renderSketch } from "../../scripts/firmware/render-sketch.ts";
import { tempDir } from "../support/temp.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const SHARED = process.env.LIFELOG_SHARED_DIR ?? join(ROOT, "../shared");
const present = existsSync(join(SHARED, "board-check/typecheck.sh")) && existsSync(join(SHARED, "arduino-esp32-3.1.3/cores/esp32"));
const SYSROOT = join(ROOT, ".local/board-check/sysroot");

const CORRECT_CALL = 'SD.begin(kCs, SPI, spi_hz_, "/sd", kMaxOpenFiles + 4)';
const WRONG_CALL = 'SD.begin("/sd", kCs, SPI, spi_hz_)'; // mount point first: no such overload

describe.skipIf(!present)("board check against the real arduino-esp32 3.1.3 headers", () => {
  it("fails with a GLUE error on an SD.begin call with wrong argument types", async () => {
    const sketch = (
      await renderSketch(
        { wifi_networks: [{ ssid: "home", password: "correct horse" }], api_base_url: "http://192.168.1.2:54321/functions/v1", pairing_code: "BCDF-GHJK", dev_insecure_tls: true },
        await tempDir(),
      )
    ).sketchDir;
    const fsGlue = join(sketch, "arduino_fs.cpp");
    const text = await readFile(fsGlue, "utf8");
    expect(text).toContain(CORRECT_CALL);
    await writeFile(fsGlue, text.replace(CORRECT_CALL, WRONG_CALL));
    // Only the changed file and the .ino are compiled (the headers stay): the whole sketch is
    // checked clean by `npm test` already, and 34 translation units are slow on a busy box.
    for (const dir of [sketch, join(sketch, "src")]) {
      for (const f of await readdir(dir)) if (f.endsWith(".cpp") && f !== "arduino_fs.cpp") await rm(join(dir, f));
    }
    const args = ["scripts/board-check/run.sh", "--sketch", sketch, ...(existsSync(SYSROOT) ? ["--sysroot", SYSROOT] : [])];
    const result = await run("bash", args, { cwd: ROOT, env: { ...process.env, LIFELOG_BOARD_CHECK_WORK: await tempDir() }, maxBuffer: 1 << 24 })
      .then((r) => ({ code: 0, stdout: r.stdout }))
      .catch((e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }));
    expect(result.stdout).toMatch(/^GLUE {2}arduino_fs\.cpp:\d+:\d+: error: /m);
    expect(result.stdout).toContain("libraries/SD/src/SD.h");
    expect(result.stdout).toMatch(/glue: 1 errors/);
    expect(result.code).toBe(1);
  }, 600_000);
});

describe.skipIf(!present)("board check core modes", () => {
  it("refuses an unknown --core-mode, and --sketch in library mode, as set-up errors (exit 2)", async () => {
    const exitOf = (args: string[]) =>
      run("bash", ["scripts/board-check/run.sh", ...args], { cwd: ROOT }).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
    const bogus = await exitOf(["--core-mode", "copied"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--core-mode must be bundled or library, not 'copied'/);
    const sketch = await exitOf(["--core-mode", "library", "--sketch", "/nonexistent"]);
    expect(sketch.code).toBe(2);
    expect(sketch.stderr).toMatch(/--sketch is for the bundled mode/);
  });
});

describe("board check without ../shared (a user's clone)", () => {
  it("says it is skipped and exits 77, never 0", async () => {
    const env = { ...process.env, LIFELOG_SHARED_DIR: join(await tempDir(), "no-shared") };
    const result = await run("bash", ["scripts/board-check/run.sh"], { cwd: ROOT, env }).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(result.code).toBe(77);
    expect(result.stdout).toMatch(/board check: SKIPPED/);
    const library = await run("bash", ["scripts/board-check/run.sh", "--core-mode", "library"], { cwd: ROOT, env }).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(library.code).toBe(77);
    expect(library.stdout).toMatch(/board check: SKIPPED/);
  });
});
