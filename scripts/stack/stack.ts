// The local stack: everything `supabase start` + `functions serve` would give, built
// from parts that run without Docker. Used by `npm start` and by the tests.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { type AuthKey, createLocalAuth, createLocalUser, createPasswordSignIn, type LocalAuth } from "./auth.ts";
import { type FunctionSource, startEdgeRuntime } from "./edge-runtime.ts";
import { startGateway } from "./gateway.ts";
import { LOCAL_S3_CREDENTIALS, startObjectStore } from "./object-store.ts";
import { freePort } from "./ports.ts";
import { type PostgresOptions, startPostgres } from "./postgres.ts";

export const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
export const DEFAULT_WORK_DIR = join(PROJECT_ROOT, ".local/stack");
export const DEFAULT_PORTS = { gateway: 54321, postgres: 54322, objectStore: 54323, function: 54324, objectBackend: 54325 };

export interface LocalUser {
  id: string;
  email: string;
}

/** What a client needs to use the running stack; written to <workDir>/stack.json. */
export interface StackInfo {
  supabase_url: string;
  api_base: string;
  db_url: string;
  user: LocalUser;
  user_access_token: string;
  /** The user's password for the local password grant (`POST /auth/v1/token?grant_type=password`). */
  user_password: string;
  /**
   * endpoint: the SigV4-verifying gate clients use; backend_endpoint: s3rver itself;
   * gateway_endpoint (with `storageOnGateway`): the same S3 endpoint through SUPABASE_URL
   */
  storage: { driver: "s3"; endpoint: string; backend_endpoint: string; bucket: string; gateway_endpoint?: string };
}

export interface Stack {
  info: StackInfo;
  infoPath: string;
  workDir: string;
  /** A new user in auth.users with an access token, as if they had signed up. */
  createUser(email?: string): Promise<{ user: LocalUser; accessToken: string }>;
  /** The key the local Auth signs access tokens with (also in <workDir>/auth-key.json). */
  authKey: AuthKey;
  /** The devices function itself, without the gateway, and the env it runs with (benchmarks). */
  fn: { url: string; pid: number; env: Record<string, string> };
  stop(): Promise<void>;
}

export interface StackOptions {
  workDir?: string;
  ports?: Partial<typeof DEFAULT_PORTS> | "random";
  log?: (line: string) => void;
  functionEnv?: Record<string, string>;
  /** the function's code: the working tree by default */
  functionSource?: FunctionSource;
  /** benchmarks: statistics extensions in Postgres (see PostgresOptions) */
  instrumentPostgres?: PostgresOptions["instrument"];
  /** serve S3 under SUPABASE_URL/storage/v1/s3 as well, as a hosted project does (the gate then serves only that path) */
  storageOnGateway?: boolean;
  /** benchmarks: V8 flags for the function's Deno process (see function-host.ts for --expose-gc) */
  functionV8Flags?: string[];
}

/** Where Supabase Storage serves its S3 protocol, under the project URL. */
export const STORAGE_S3_PREFIX = "/storage/v1/s3";

/** A stack killed without its shutdown leaves Postgres running on its folder: stop it. */
async function stopLeftoverPostgres(dataDir: string): Promise<void> {
  const pid = Number((await readFile(join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
  if (!pid) return;
  try {
    process.kill(pid, "SIGINT"); // fast shutdown
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function choosePorts(ports: StackOptions["ports"]): Promise<typeof DEFAULT_PORTS> {
  if (ports === "random") {
    const chosen = { ...DEFAULT_PORTS };
    for (const k of Object.keys(chosen) as Array<keyof typeof DEFAULT_PORTS>) chosen[k] = await freePort();
    return chosen;
  }
  return { ...DEFAULT_PORTS, ...ports };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? (() => {});
  const workDir = resolve(opts.workDir ?? DEFAULT_WORK_DIR); // scripts get its paths from any folder
  const ports = await choosePorts(opts.ports);
  await stopLeftoverPostgres(join(workDir, "pgdata"));
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });

  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e) => log(`stop: ${String(e)}`));
    stops.length = 0;
  };

  try {
    log("starting Postgres 17 and applying migrations with `supabase db push`…");
    const pg = await startPostgres({ dataDir: join(workDir, "pgdata"), port: ports.postgres, projectRoot: PROJECT_ROOT, log, instrument: opts.instrumentPostgres });
    stops.push(pg.stop);
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    stops.push(() => sql.end());

    log("starting the S3-compatible object store…");
    const bucket = "device-photos";
    const store = await startObjectStore({
      directory: join(workDir, "objects"),
      port: ports.objectStore,
      backendPort: ports.objectBackend,
      bucket,
      pathPrefix: opts.storageOnGateway ? STORAGE_S3_PREFIX : undefined,
    });
    stops.push(store.stop);

    const supabaseUrl = `http://127.0.0.1:${ports.gateway}`;
    const auth: LocalAuth = await createLocalAuth(supabaseUrl);

    log("starting the devices function under Deno…");
    const functionEnv: Record<string, string> = {
      SUPABASE_URL: supabaseUrl,
      SUPABASE_DB_URL: pg.url,
      SUPABASE_JWKS: JSON.stringify(auth.jwks),
      DEVICE_TOKEN_PEPPER: randomBytes(32).toString("base64url"),
      DEVICE_STORAGE_DRIVER: "s3",
      DEVICE_STORAGE_BUCKET: bucket,
      S3_ENDPOINT: store.endpoint,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      ...opts.functionEnv,
    };
    const fn = await startEdgeRuntime({
      projectRoot: PROJECT_ROOT,
      port: ports.function,
      source: opts.functionSource,
      onLog: (l) => log(`devices: ${l}`),
      env: functionEnv,
      v8Flags: opts.functionV8Flags,
    });
    stops.push(fn.stop);

    const passwordSignIn = createPasswordSignIn(auth);
    const gateway = await startGateway({
      port: ports.gateway, functionUrl: fn.url, jwks: auth.jwks, passwordSignIn,
      storage: opts.storageOnGateway ? { prefix: STORAGE_S3_PREFIX, url: store.endpoint } : undefined,
    });
    stops.push(gateway.stop);

    const authKey: AuthKey = { privateJwk: auth.privateJwk, issuer: auth.issuer };
    const createUser = (email = `user-${randomUUID().slice(0, 8)}@lifelog.local`) => createLocalUser(sql, authKey, email);
    const first = await createUser("camera-owner@lifelog.local");
    const userPassword = randomBytes(18).toString("base64url");
    passwordSignIn.setPassword(first.user, userPassword);
    const info: StackInfo = {
      supabase_url: supabaseUrl,
      api_base: `${supabaseUrl}/functions/v1`,
      db_url: pg.url,
      user: first.user,
      user_access_token: first.accessToken,
      user_password: userPassword,
      storage: {
        driver: "s3", endpoint: store.endpoint, backend_endpoint: store.backendEndpoint, bucket,
        ...(opts.storageOnGateway ? { gateway_endpoint: supabaseUrl + STORAGE_S3_PREFIX } : {}),
      },
    };
    const infoPath = join(workDir, "stack.json");
    await writeFile(infoPath, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
    await writeFile(join(workDir, "auth-key.json"), JSON.stringify(authKey), { mode: 0o600 }); // for `npm run token`

    return {
      info,
      infoPath,
      workDir,
      createUser,
      authKey,
      fn: { url: fn.url, pid: fn.pid, env: functionEnv },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
