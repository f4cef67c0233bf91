// Runs the bundled CLI (dist/lifelog-devices.mjs) as a user would: a child process with its own
// environment, stdin and working folder.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { buildCli, DEFAULT_OUTFILE } from "../../scripts/cli/build.ts";

export { tempDir } from "../support/temp.ts";

export const CLI = DEFAULT_OUTFILE;
export const PROJECT_ROOT = join(import.meta.dirname, "..", "..");

let built: Promise<string> | undefined;
export const buildOnce = () => (built ??= buildCli());

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
}

/** An environment without the caller's Supabase settings, so only what a test passes counts. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(SUPABASE_|LIFELOG_)/.test(k)) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}


/** Runs the `openssl` binary in `dir`. */
export const openssl = (dir: string, ...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

/** A self-signed test CA (`<name>.pem`, `<name>.key` in dir, subject "CN=Test <name> CA"); returns its PEM. */
export async function makeCa(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=Test ${name} CA`);
  return readFile(join(dir, `${name}.pem`), "utf8");
}

/**
 * A certificate `<name>.pem` (key `<name>.key`) issued by the CA `<issuer>.pem`/`.key` in dir:
 * a server certificate for 127.0.0.1, or with `ca: true` an intermediate CA. Returns its PEM.
 */
export async function issueCert(dir: string, name: string, issuer: string, options: { ca?: boolean; subject?: string } = {}): Promise<string> {
  const subject = options.subject ?? (options.ca ? `/CN=Test ${name} CA` : "/CN=127.0.0.1");
  openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
  const ext = options.ca ? "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" : "subjectAltName=IP:127.0.0.1\n";
  await writeFile(join(dir, `${name}.cnf`), ext);
  openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.cnf`);
  return readFile(join(dir, `${name}.pem`), "utf8");
}

/** What the TLS tests share: CA "ca" issued the server certificate for 127.0.0.1; "other" is an unrelated CA. */
export interface TlsFixtures {
  dir: string;
  ca: string;
  otherCa: string;
  serverKey: string;
  serverCert: string;
}

export async function makeTlsFixtures(dir: string): Promise<TlsFixtures> {
  const ca = await makeCa(dir, "ca");
  const otherCa = await makeCa(dir, "other");
  const serverCert = await issueCert(dir, "server", "ca");
  return { dir, ca, otherCa, serverCert, serverKey: await readFile(join(dir, "server.key"), "utf8") };
}
