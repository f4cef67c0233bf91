// Finding external tools on PATH and running them with their output streamed through.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

import type { Output } from "./output.ts";

export function findOnPath(names: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const name of names) {
    for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

/** Quotes an argument for a POSIX shell only when it needs it. */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export const commandLine = (argv: readonly string[]) => argv.map(shellQuote).join(" ");

/** Runs a program, streaming its stdout and stderr to our stderr; resolves to its exit code. */
export function runStreaming(program: string, args: readonly string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => out.passthrough(chunk));
    child.stderr.on("data", (chunk: Buffer) => out.passthrough(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
