// The local S3-compatible object store: s3rver, which stores objects but does not
// verify SigV4 signatures, behind a gate that does (sigv4-gate.ts). Clients use the
// gate's endpoint; the backend endpoint is for looking behind it in tests.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import S3rver from "s3rver";
import { startSigV4Gate } from "./sigv4-gate.ts";

export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface ObjectStoreHandle {
  endpoint: string;
  backendEndpoint: string;
  bucket: string;
  directory: string;
  stop(): Promise<void>;
}

export async function startObjectStore(
  /** pathPrefix: serve S3 under this path (Supabase's `/storage/v1/s3`); `endpoint` includes it */
  opts: { directory: string; port: number; backendPort: number; bucket: string; pathPrefix?: string },
): Promise<ObjectStoreHandle> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: opts.backendPort,
    directory: opts.directory,
    silent: true,
    configureBuckets: [{ name: opts.bucket, configs: [] }],
  });
  await server.run();
  const backendEndpoint = `http://127.0.0.1:${opts.backendPort}`;
  const gate = await startSigV4Gate({
    port: opts.port,
    upstream: backendEndpoint,
    secrets: { [LOCAL_S3_CREDENTIALS.accessKeyId]: LOCAL_S3_CREDENTIALS.secretAccessKey },
    pathPrefix: opts.pathPrefix,
  }).catch(async (err) => {
    await server.close();
    throw err;
  });
  return {
    endpoint: gate.endpoint + (opts.pathPrefix ?? ""),
    backendEndpoint,
    bucket: opts.bucket,
    directory: opts.directory,
    stop: async () => {
      await gate.stop();
      await server.close();
    },
  };
}

/** Every file below `dir` (s3rver keeps `<key>._S3rver_object` and metadata files per object). */
export async function* storeFiles(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* storeFiles(p);
    else yield p;
  }
}
