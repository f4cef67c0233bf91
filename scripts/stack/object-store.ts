// The local S3-compatible object store (s3rver). It accepts SigV4 presigned URLs but
// does not verify their signatures; the signer is proven separately against AWS's
// published known-answer example (tests/storage/s3-presign.test.ts).
import S3rver from "s3rver";

export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface ObjectStoreHandle {
  endpoint: string;
  bucket: string;
  directory: string;
  stop(): Promise<void>;
}

export async function startObjectStore(opts: { directory: string; port: number; bucket: string }): Promise<ObjectStoreHandle> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: opts.port,
    directory: opts.directory,
    silent: true,
    configureBuckets: [{ name: opts.bucket, configs: [] }],
  });
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${opts.port}`,
    bucket: opts.bucket,
    directory: opts.directory,
    stop: () => server.close(),
  };
}
