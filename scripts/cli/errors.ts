// The one error type of the CLI: a message for a person, an exit code for a script.

export const ExitCode = {
  ok: 0,
  /** A check ran and found something wrong (or an external tool failed). */
  failure: 1,
  usage: 2,
  configInvalid: 3,
  /** The API or Supabase could not be reached. */
  unreachable: 4,
  /** Not signed in, session expired, or credentials refused. */
  auth: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = [
  "Exit codes:",
  "  0  success",
  "  1  a check failed or an external tool (arduino-cli, esptool) failed",
  "  2  usage error (unknown command or flag, missing argument)",
  "  3  the device config file is invalid",
  "  4  the API or Supabase could not be reached",
  "  5  not signed in, session expired, or credentials refused",
].join("\n");

export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    /** Extra lines shown after the message (e.g. every config mistake). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.usage);
