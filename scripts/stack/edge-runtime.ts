// The `devices` Edge Function under real Deno, in its own process.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { waitFor } from "./ports.ts";

export interface EdgeRuntimeHandle {
  url: string;
  /** the Deno process (for the benchmark's memory readings) */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Where the function's code comes from. By default the working tree, its imports
 * resolved from node_modules through the root deno.json; tests/deploy passes the folder
 * holding exactly what `supabase functions deploy` uploaded, with its deno.json.
 */
export interface FunctionSource {
  /** working directory of the function process */
  root: string;
  /** deno config (import map) the function is resolved with */
  config: string;
  entrypoint: string;
  /** the deno binary (another version than node_modules' one) */
  deno?: string;
  /** extra environment for Deno itself (DENO_DIR, DENO_NO_PACKAGE_JSON), not the function's */
  denoEnv?: Record<string, string>;
}

export function workingTreeSource(projectRoot: string): FunctionSource {
  return {
    root: projectRoot,
    config: join(projectRoot, "deno.json"),
    entrypoint: join(projectRoot, "functions/devices/index.ts"),
  };
}

export async function startEdgeRuntime(opts: {
  projectRoot: string;
  port: number;
  env: Record<string, string>;
  source?: FunctionSource;
  onLog?: (line: string) => void;
  /** benchmarks only: V8 flags for the function's process (e.g. --expose-gc) */
  v8Flags?: string[];
}): Promise<EdgeRuntimeHandle> {
  const source = opts.source ?? workingTreeSource(opts.projectRoot);
  const deno = source.deno ?? join(opts.projectRoot, "node_modules/.bin/deno");
  // With V8 flags (benchmarks: --trace-gc), V8's own lines go through C stdio, which buffers a
  // pipe in 4 KiB blocks: split into the function's log lines and late. stdbuf (coreutils)
  // makes them line-buffered, then execs Deno in the same process (same pid).
  const lineBuffered = (opts.v8Flags?.length ?? 0) > 0;
  const child: ChildProcess = spawn(lineBuffered ? "stdbuf" : deno, [
    ...(lineBuffered ? ["-oL", deno] : []),
    "run",
    "--quiet",
    "--config", source.config,
    "--allow-net", "--allow-env", "--allow-read", "--allow-sys",
    ...(opts.v8Flags?.length ? [`--v8-flags=${opts.v8Flags.join(",")}`] : []),
    join(opts.projectRoot, "scripts/stack/function-host.ts"),
    source.entrypoint,
  ], {
    cwd: source.root,
    // Only what Supabase would inject plus the function's secrets: no inherited env.
    env: {
      PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DENO_NO_UPDATE_CHECK: "1",
      ...source.denoEnv, ...opts.env, FUNCTION_PORT: String(opts.port),
    },
    stdio: ["pipe", "pipe", "pipe"], // stdin: closes when this process dies
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => { exited = true; resolve(); }));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (l) => { if (l) opts.onLog?.(l); });
  }
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exit;
      clearTimeout(timer);
    }
  };
  try {
    await waitFor("the devices function", async () => {
      if (exited) throw new Error("deno exited");
      const res = await fetch(`${url}/devices/health`, { method: "OPTIONS" });
      await res.body?.cancel();
      return res.status === 204;
    }, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, stop };
}
