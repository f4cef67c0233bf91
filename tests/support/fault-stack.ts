// What the end-to-end tests behind fault proxies share: a stack of the file's own whose API
// (the gateway) and storage (the SigV4 gate) are each reached through a fault proxy
// (scripts/stack/fault-proxy.ts), upload URLs signed for the storage proxy (or for whatever the
// test puts in front of it), and a database connection as the tables' owner. The hooks are
// registered here: call faultStack() at the top of a test file and read its fields in tests.
import postgres from "postgres";
import { afterAll, beforeAll } from "vitest";
import { type FaultProxyHandle, NO_FAULTS, type SeenRequest, startFaultProxy } from "../../scripts/stack/fault-proxy.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { buildSimCamera } from "../../scripts/sim/sim-camera.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { tempDir } from "./temp.ts";

export interface FaultStackOptions {
  /** names the stack's temp folder */
  name: string;
  /** seeds of the API and the storage proxy's fault draws */
  seeds: { api: number; storage: number };
  /** build the simulated camera first */
  camera?: boolean;
  /** what upload URLs are signed for, asked once the proxies are up (default: the storage proxy) */
  storageFront?: () => Promise<string>;
  /** more settings of the function (e.g. a shorter DEVICE_UPLOAD_TTL_SECONDS) */
  functionEnv?: Record<string, string>;
}

export interface FaultStack {
  stack: Stack;
  apiProxy: FaultProxyHandle;
  storageProxy: FaultProxyHandle;
  sql: postgres.Sql;
  /** the function's base URL (".../functions/v1") as reached through the API proxy */
  apiBase: string;
  /**
   * Requests per route ("upload-urls", "ingest-batch", "activate", ...) that reached the API
   * proxy since `since` (ms, Date.now()): every attempt counts, also those the proxy cut or
   * answered itself.
   */
  apiRoutes(since?: number): Record<string, number>;
}

/** Requests per path (the request line's target without its query), each path less `prefix`. */
export function requestsByPath(requests: readonly SeenRequest[], prefix = "", since = 0): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    if (r.at < since) continue;
    const target = r.line.split(" ")[1] ?? "";
    const path = target.split("?")[0];
    const key = path.startsWith(prefix) ? path.slice(prefix.length) : path;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function faultStack(o: FaultStackOptions): FaultStack {
  const env = {} as FaultStack;
  beforeAll(async () => {
    if (o.camera) await buildSimCamera();
    env.apiProxy = await startFaultProxy({ port: await freePort(), plan: NO_FAULTS, seed: o.seeds.api });
    env.storageProxy = await startFaultProxy({ port: await freePort(), plan: NO_FAULTS, seed: o.seeds.storage });
    const storageFront = o.storageFront ? await o.storageFront() : env.storageProxy.url;
    env.stack = await startStack({
      workDir: await tempDir(`lifelog-${o.name}-`),
      ports: "random",
      // Upload URLs are signed for the storage front, so PUTs cross the storage proxy too.
      functionEnv: { ...o.functionEnv, S3_PUBLIC_ENDPOINT: storageFront },
    });
    const gateway = new URL(env.stack.info.supabase_url);
    const store = new URL(env.stack.info.storage.endpoint);
    env.apiProxy.setUpstream(gateway.hostname, Number(gateway.port));
    env.storageProxy.setUpstream(store.hostname, Number(store.port));
    env.sql = postgres(env.stack.info.db_url, { onnotice: () => {} });
    const functionPath = new URL(env.stack.info.api_base).pathname.replace(/\/$/, "");
    env.apiBase = `${env.apiProxy.url}${functionPath}`;
    env.apiRoutes = (since = 0) => requestsByPath(env.apiProxy.stats.requests, `${functionPath}/devices/`, since);
  }, 400_000);
  afterAll(async () => {
    await env.sql?.end();
    await env.stack?.stop();
    await env.apiProxy?.stop();
    await env.storageProxy?.stop();
  });
  return env;
}
