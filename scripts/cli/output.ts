// Human output on stdout, progress and warnings on stderr, or one JSON document with --json.
// Progress never goes to stdout, so `--json` output stays parseable.

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface Progress {
  done(message?: string): void;
  fail(): void;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Output {
  constructor(
    readonly json: boolean,
    private readonly streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  /** A line for people; suppressed with --json. */
  line(text = ""): void {
    if (!this.json) this.streams.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    this.streams.stderr.write(`warning: ${text}\n`);
  }

  /** The machine-readable result; printed only with --json. */
  result(value: unknown): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Raw bytes from a child process, passed through to stderr. */
  passthrough(chunk: string | Uint8Array): void {
    this.streams.stderr.write(chunk);
  }

  /** A spinner on an interactive terminal, one line otherwise. */
  progress(label: string): Progress {
    const stderr = this.streams.stderr;
    if (!stderr.isTTY) {
      stderr.write(`${label}…\n`);
      return { done: () => {}, fail: () => {} };
    }
    let frame = 0;
    const draw = () => stderr.write(`\r${SPINNER[frame++ % SPINNER.length]} ${label}…`);
    draw();
    const timer = setInterval(draw, 80);
    const finish = (mark: string, message?: string) => {
      clearInterval(timer);
      stderr.write(`\r\x1b[2K${mark} ${message ?? label}\n`);
    };
    return { done: (message) => finish("✓", message), fail: () => finish("✗", label) };
  }

  /** Runs `work` under a progress indicator. */
  async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    const progress = this.progress(label);
    try {
      const value = await work();
      progress.done();
      return value;
    } catch (err) {
      progress.fail();
      throw err;
    }
  }
}

/** Secrets are never shown, only whether there is one. */
export function maskSecret(secret: string): string {
  return secret === "" ? "(empty)" : "(hidden)";
}
