// lifelog-devices: provisioning CLI for Lifelog cameras. Parses flags per command with
// node:util parseArgs, runs the command, and turns every error into a message and an exit code.
import { parseArgs } from "node:util";

import { type Command, type CommandContext, COMMON_HELP, COMMON_OPTIONS } from "./command.ts";
import { ca } from "./commands/ca.ts";
import { devices } from "./commands/devices.ts";
import { doctor } from "./commands/doctor.ts";
import { flash } from "./commands/flash.ts";
import { login, logout } from "./commands/login.ts";
import { nvs } from "./commands/nvs.ts";
import { pair } from "./commands/pair.ts";
import { photos } from "./commands/photos.ts";
import { pin } from "./commands/pin.ts";
import { halt, keygen, release, releases, resumeRelease, rollout } from "./commands/releases.ts";
import { rename } from "./commands/rename.ts";
import { retention } from "./commands/retention.ts";
import { render } from "./commands/render.ts";
import { revoke } from "./commands/revoke.ts";
import { pause, resume, settings } from "./commands/settings.ts";
import { worker } from "./commands/worker.ts";
import { CliError, EXIT_CODES_HELP, ExitCode } from "./errors.ts";
import { Output } from "./output.ts";
import { packageVersion } from "./package-root.ts";

const COMMANDS: Command[] = [login, logout, pair, ca, render, nvs, flash, doctor, devices, rename, pause, resume, settings, revoke, photos, pin, retention,
  keygen, release, releases, rollout, halt, resumeRelease, worker];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "lifelog-devices: provision Lifelog cameras (Seeed XIAO ESP32S3 Sense)",
    "",
    "Usage: lifelog-devices <command> [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Start here: login → pair --write-config camera.yaml → render camera.yaml → flash.",
    "Run `lifelog-devices <command> --help` for a command's flags.",
    "",
    COMMON_HELP,
    "  --version   print the version",
    "",
    EXIT_CODES_HELP,
  ].join("\n");
}

function commandHelp(command: Command): string {
  return [`lifelog-devices ${command.name}: ${command.summary}`, "", command.help, "", COMMON_HELP, "", EXIT_CODES_HELP].join("\n");
}

function isParseArgsError(err: unknown): boolean {
  return typeof (err as { code?: unknown }).code === "string" && (err as { code: string }).code.startsWith("ERR_PARSE_ARGS");
}

async function main(argv: string[], ctx: Omit<CommandContext, "out"> = { env: process.env, stdin: process.stdin }): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes("--json");
  const out = new Output(json);
  const fail = (message: string, code: number, details: string[] = []) => {
    process.stderr.write(`error: ${message}\n${details.map((d) => `  ${d}\n`).join("")}`);
    return code;
  };

  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write((topic ? commandHelp(topic) : mainHelp()) + "\n");
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return fail(`unknown command "${name}"; run \`lifelog-devices --help\` for the list`, ExitCode.usage);

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
  } catch (err) {
    if (isParseArgsError(err)) {
      return fail(`${(err as Error).message.split(/\n|\. To specify/)[0]}; run \`lifelog-devices ${name} --help\``, ExitCode.usage);
    }
    throw err;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(command) + "\n");
    return ExitCode.ok;
  }
  try {
    await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals, { ...ctx, out });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CliError) return fail(err.message, err.exitCode, err.details);
    return fail(`unexpected error: ${(err as Error).stack ?? String(err)}`, ExitCode.failure);
  }
}

process.exitCode = await main(process.argv.slice(2));
