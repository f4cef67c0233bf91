// Secrets come from stdin (a pipe) or a prompt that does not echo; never from argv if avoidable.
import { createInterface } from "node:readline";

import { CliError, ExitCode } from "./errors.ts";

export async function readStdinSecret(stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  // Only the line ending a pipe adds is removed: a secret may contain other whitespace.
  const value = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (!value) throw new CliError(`no ${what} on stdin`, ExitCode.usage);
  return value;
}

/** Asks on the terminal without echoing what is typed. */
export function promptHidden(question: string, stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string> {
  if (!stdin.isTTY) throw new CliError(`stdin is not a terminal; pipe the secret in with --password-stdin`, ExitCode.usage);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: stdin, output: process.stderr, terminal: true });
    let muted = false;
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    const original = output._writeToOutput.bind(rl);
    output._writeToOutput = (s: string) => {
      if (!muted) original(s);
    };
    rl.question(question, (answer) => {
      process.stderr.write("\n");
      rl.close();
      resolve(answer);
    });
    muted = true;
    rl.on("SIGINT", () => {
      rl.close();
      reject(new CliError("cancelled", ExitCode.usage));
    });
  });
}
