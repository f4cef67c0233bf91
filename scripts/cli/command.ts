// What every subcommand module exports: its flags (for node:util parseArgs), its help text and run().
import type { ParseArgsConfig } from "node:util";

import type { Output } from "./output.ts";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | undefined>;

export interface CommandContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line(s) and flag descriptions, without the common flags and exit codes. */
  help: string;
  options: OptionSpec;
  run(values: Values, positionals: string[], ctx: CommandContext): Promise<void>;
}

export const COMMON_OPTIONS: OptionSpec = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

export const COMMON_HELP = ["Common flags:", "  --json      machine-readable output on stdout (progress stays on stderr)", "  -h, --help  this help"].join("\n");
