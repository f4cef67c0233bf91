// The README's main command, `npm start`, in its one-shot form: the stack comes up on
// its own, the curl walkthrough runs, a simulated camera pairs, captures and uploads,
// and everything stops again, leaving no process behind.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

// The whole --once run on a busy machine; the test waits for it (vitest's default is 60 s).
const START_TIMEOUT_MS = 240_000;

describe("npm start", () => {
  it("is what the README's first lines tell a newcomer to run", async () => {
    const readme = await readFile(join(PROJECT_ROOT, "README.md"), "utf8");
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(firstBlock).toMatch(/^bash scripts\/setup\.sh && npm start\b/m);
    expect(firstBlock).toMatch(/^bash scripts\/setup\.sh && npm test\b/m);
  });

  it("--once runs the walkthrough and a camera session against its own stack, then stops cleanly", async () => {
    const workDir = await tempDir("lifelog-start-");
    const { stdout } = await promisify(execFile)(
      join(PROJECT_ROOT, "node_modules/.bin/tsx"),
      ["scripts/start.ts", "--once", "--random-ports", "--camera-interval-s", "0.3", "--photos", "3", "--work-dir", workDir],
      { cwd: PROJECT_ROOT, timeout: START_TIMEOUT_MS },
    ).catch((e: { message: string; stdout?: string; stderr?: string }) => {
      throw new Error(`${e.message}\n--- stdout\n${e.stdout}\n--- stderr\n${e.stderr}`);
    });
    expect(stdout).toContain("lifelog-devices local stack is up");
    expect(stdout).toMatch(/\{"status":"queued","item_id":"[0-9a-f-]{36}","task_id":"[0-9a-f-]{36}"\}/);
    expect(stdout).toMatch(/\{"status":"duplicate","item_id":"[0-9a-f-]{36}"\}/);
    for (const n of [0, 1, 2]) expect(stdout).toContain(`camera  ingested  #${n}`);
    expect(stdout).toContain("camera  backlog empty");
    expect(stdout).not.toMatch(/devtok_[0-9A-Za-z]{38}/);
    expect(stdout).toContain("stopping the local stack");

    const { stdout: ps } = await promisify(execFile)("ps", ["-eo", "args"]);
    expect(ps).not.toContain(workDir);
  }, START_TIMEOUT_MS + 30_000);
});
