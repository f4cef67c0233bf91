// The worker as a child process (tests, the benchmark): its stdout is the closing tally.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../stack/stack.ts";

export interface WorkerRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `prefix`: a command that runs the worker, e.g. `taskset -c 1` (the benchmark's pinning). */
export function startWorker(args: string[], env: Record<string, string>, prefix: string[] = []): WorkerRun {
  return startTsx(join(PROJECT_ROOT, "scripts/worker/run.ts"), args, env, prefix);
}

/** A TypeScript entry point under tsx as a child process, its output collected. */
export function startTsx(entry: string, args: string[], env: Record<string, string>, prefix: string[] = []): WorkerRun {
  const command = [...prefix, process.execPath, "--import", "tsx", entry, ...args];
  const child = spawn(command[0], command.slice(1), { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
