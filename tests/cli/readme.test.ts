// Runs the quick start of scripts/cli/README.md, command by command, against the test stack.
// Only what differs on the test stack is substituted: its port, its stack.json and the
// repository path (the commands run in a fresh folder, so nothing is written into the tree).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";

import { stack } from "../support/stack.ts";
import { cleanEnv, PROJECT_ROOT, tempDir } from "./harness.ts";

async function quickstartCommands(): Promise<string[]> {
  const readme = await readFile(join(PROJECT_ROOT, "scripts/cli/README.md"), "utf8");
  const block = /<!-- quickstart:[^>]*-->\n```bash\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README quick start block not found");
  return block[1].trim().split("\n");
}

let commands: string[];
beforeAll(async () => {
  commands = await quickstartCommands();
});

it("has fewer than five commands from build to a rendered sketch", () => {
  expect(commands.length).toBeLessThan(5);
  expect(commands.at(-1)).toContain(" render ");
});

it("goes from sign-in and pairing to a rendered sketch folder on the local stack", async () => {
  const cwd = await tempDir("lifelog-readme-");
  const env = cleanEnv({ LIFELOG_CONFIG_DIR: join(cwd, ".config") });
  const outputs: string[] = [];
  for (const command of commands) {
    const adapted = command
      .replaceAll("http://127.0.0.1:54321", stack.supabase_url)
      .replaceAll("./.local/stack/stack.json", join(stack.workDir, "stack.json"))
      .replaceAll("dist/lifelog-devices.mjs", join(PROJECT_ROOT, "dist/lifelog-devices.mjs"))
      .replace(/^npm run build$/, `npm --prefix ${PROJECT_ROOT} run build --silent`);
    outputs.push(execFileSync("bash", ["-o", "pipefail", "-c", adapted], { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  }
  const [, login, pair, render] = outputs;
  expect(login).toContain(`Signed in to ${stack.supabase_url} as camera-owner@lifelog.local.`);
  const code = /^Pairing code: ([A-Z]{4}-[A-Z]{4})$/m.exec(pair)![1];
  expect(pair).toContain("Created camera.yaml with the pairing code.\nNext: lifelog-devices render camera.yaml --out build\n");
  expect(render).toMatch(/^Rendered \d+ files into build\/lifelog_camera \(config version [0-9a-f]{8}\)\.$/m);
  expect(render).toContain("The pairing code expires in 10 minutes");
  const header = await readFile(join(cwd, "build/lifelog_camera/lifelog_config.h"), "utf8");
  expect(header).toContain(`#define LIFELOG_PAIRING_CODE "${code}"`);
  expect(header).toContain(`#define LIFELOG_API_BASE_URL "${stack.api_base}"`);
  expect(existsSync(join(cwd, "build/lifelog_camera/lifelog_camera.ino"))).toBe(true);
}, 60_000);
