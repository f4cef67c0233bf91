// The `devices` function exactly as `supabase functions deploy devices --use-api` ships it:
// the pinned CLI runs its real deploy against the Management API stand-in, and the files
// of its multipart upload are laid out in an empty folder (no node_modules, no package.json).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { type RecordedRequest, startManagementApi } from "./management-api.ts";

/** The form's `metadata` field (supabase/cli pkg/function/api.go FunctionDeployMetadata). */
export interface DeployMetadata {
  entrypoint_path: string;
  import_map_path?: string;
  name?: string;
  static_patterns?: string[];
  verify_jwt?: boolean;
}

export interface DeployedFunction {
  metadata: DeployMetadata;
  /** path (as the CLI named it in the upload, relative to the project root) → content */
  files: Map<string, Buffer>;
  /** the CLI's own output, for failure messages */
  cliOutput: string;
  requests: RecordedRequest[];
}

export const STANDIN_PROJECT_REF = "lifelogstandinprojct"; // 20 lowercase letters, as refs are

/**
 * The pinned CLI, pointed at a fresh Management API stand-in, in the project root: with
 * args, or a line of docs/deploy.md run by bash with `npx supabase` standing for the pinned CLI.
 */
export async function runCliAgainstStandIn(command: string[] | { bashLine: string }, workDir: string) {
  const accessToken = `sbp_${randomBytes(20).toString("hex")}`; // the CLI checks this shape
  const api = await startManagementApi(STANDIN_PROJECT_REF, accessToken);
  try {
    // A profile file is how the CLI is pointed at another Management API host
    // (supabase/cli internal/utils/profile.go: --profile <file> with api_url).
    const profile = join(workDir, "profile.json");
    await writeFile(profile, JSON.stringify({
      name: "standin", api_url: api.url, dashboard_url: `${api.url}/dashboard`, project_host: "supabase.co",
    }));
    const home = join(workDir, "home");
    await mkdir(home, { recursive: true });
    const cli = join(PROJECT_ROOT, "node_modules/.bin/supabase");
    const target = ["--project-ref", STANDIN_PROJECT_REF, "--profile", profile];
    const [file, argv] = Array.isArray(command) ? [cli, [...command, ...target]] : ["bash", [
      "-c", `set -euo pipefail; npx() { [ "$1" = supabase ] && shift; "$CLI" "$@" $TARGET; }; ${command.bashLine}`,
    ]];
    const { stdout, stderr } = await promisify(execFile)(file, argv, {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? "", HOME: home, SUPABASE_ACCESS_TOKEN: accessToken,
        SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", CLI: cli, TARGET: target.join(" "),
      },
      timeout: 120_000,
    });
    return { output: stdout + stderr, requests: api.requests };
  } finally {
    await api.stop();
  }
}

export async function deployThroughCli(slug = "devices", workDir: string): Promise<DeployedFunction> {
  const { output, requests } = await runCliAgainstStandIn(["functions", "deploy", slug, "--use-api"], workDir);
  const uploads = requests.filter((r) => r.method === "POST" && r.path.endsWith("/functions/deploy"));
  if (uploads.length !== 1) throw new Error(`expected one deploy upload, got ${uploads.length}\n${output}`);
  const form = await new Response(new Uint8Array(uploads[0].body), {
    headers: { "content-type": uploads[0].headers["content-type"] },
  }).formData();
  const files = new Map<string, Buffer>();
  for (const entry of form.getAll("file")) {
    if (typeof entry === "string") throw new Error("a file part without a file name");
    files.set(entry.name, Buffer.from(await entry.arrayBuffer()));
  }
  const metadata = JSON.parse(String(form.get("metadata"))) as DeployMetadata;
  return { metadata, files, cliOutput: output, requests };
}

/** Writes the shipped files into dir, at the paths the upload gives them. */
export async function layOut(deployed: DeployedFunction, dir: string): Promise<void> {
  for (const [name, content] of deployed.files) {
    const path = normalize(name);
    if (isAbsolute(path) || path.startsWith("..")) throw new Error(`upload names a file outside the project: ${name}`);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/**
 * The Deno version the hosted Edge Runtime embeds: supabase/edge-runtime v1.74.0 (the
 * image supabase/cli pins in pkg/config/templates/Dockerfile) builds on deno/Cargo.toml
 * version 2.1.4. The `deno` npm package publishes it.
 */
export const EDGE_RUNTIME_DENO_VERSION = "2.1.4";

/** A deno binary of that version, installed from the npm registry into dir. */
export async function installDeno(version: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await promisify(execFile)("npm", [
    "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", dir, `deno@${version}`,
  ], { timeout: 300_000 });
  return join(dir, "node_modules/.bin/deno");
}

/** Deno's own settings for running the shipped files: no package.json, a cache of its own. */
export function deployedDenoEnv(workDir: string): Record<string, string> {
  // Bundling reads no package.json (DENO_NO_PACKAGE_JSON=1 in supabase/cli internal/functions/deploy/bundle.go);
  // npm packages come from the registry into an empty cache, as on a fresh deploy.
  // The machine's own trust store too: registries may be reached through a TLS proxy.
  const proxies = Object.fromEntries(["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"]
    .filter((k) => process.env[k]).map((k) => [k, process.env[k] as string]));
  return { DENO_NO_PACKAGE_JSON: "1", DENO_DIR: join(workDir, "deno-dir"), DENO_TLS_CA_STORE: "mozilla,system", ...proxies };
}

/**
 * The stack's function source for the shipped files (see scripts/stack/edge-runtime.ts),
 * under node_modules' Deno, or another version ("edge-runtime": the hosted one).
 */
export async function deployedFunctionSource(workDir: string, denoVersion?: string) {
  if (denoVersion === "edge-runtime") denoVersion = EDGE_RUNTIME_DENO_VERSION;
  const deployed = await deployThroughCli("devices", workDir);
  const root = join(workDir, "shipped");
  await layOut(deployed, root);
  if (!deployed.metadata.import_map_path) throw new Error("the CLI shipped no deno.json");
  return {
    root,
    config: join(root, deployed.metadata.import_map_path),
    entrypoint: join(root, deployed.metadata.entrypoint_path),
    deno: denoVersion ? await installDeno(denoVersion, join(workDir, `deno-${denoVersion}`)) : undefined,
    denoEnv: deployedDenoEnv(workDir),
  };
}
