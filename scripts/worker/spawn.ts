// The worker as a child process (tests, the benchmark): its stdout is the closing tally.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../stack/stack.ts";

export interface WorkerRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function startWorker(args: string[], env: Record<string, string>): WorkerRun {
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts/worker/run.ts"), ...args], {
    cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
