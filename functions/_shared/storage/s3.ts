// S3-compatible storage (Supabase's S3 endpoint, AWS S3, R2, MinIO, GCS HMAC) through
// SigV4 query-string presigning. Path-style URLs: <endpoint>/<bucket>/<key>.
import { AwsClient } from "aws4fetch";
import { ApiError } from "../errors.ts";
import { hexToBase64, INSPECT_BYTES, type ObjectStore, ObjectTooLargeError, type StorageDriver, type StoredObject, totalFromContentRange, type UploadTarget } from "./driver.ts";

export interface S3Settings {
  /** where this function reaches the store */
  endpoint: string;
  /** where devices reach it (upload URLs are signed for this host) */
  publicEndpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  uploadTtlSeconds: number;
}

/** RFC 3986 encoding of each path segment, as SigV4 canonical URIs need. */
export function encodeKeyPath(key: string): string {
  return key.split("/").map((s) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  ).join("/");
}

export function objectUrl(settings: Pick<S3Settings, "endpoint" | "bucket">, key: string): URL {
  return new URL(`${settings.endpoint.replace(/\/+$/, "")}/${settings.bucket}/${encodeKeyPath(key)}`);
}

/** A presigned URL (only `host` and the listed headers are signed). Pure: time is a parameter. */
export async function presignUrl(
  client: AwsClient,
  url: URL,
  method: string,
  expiresSeconds: number,
  headers: Record<string, string>,
  now: Date,
): Promise<string> {
  const target = new URL(url);
  target.searchParams.set("X-Amz-Expires", String(expiresSeconds));
  const signed = await client.sign(target.toString(), {
    method,
    headers,
    aws: { signQuery: true, allHeaders: true, datetime: now.toISOString().replace(/[:-]|\.\d{3}/g, "") },
  });
  return signed.url;
}

// S3 answers (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
// 412 PreconditionFailed for If-None-Match: * over an existing key (conditional writes,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html),
// 400 BadDigest when the body differs from x-amz-checksum-sha256, 403 when a signed
// header (Content-Length, Content-Type, the checksum) differs from what was signed.
// A store that stops answering becomes a 503, not a request that hangs.
// A GET of a missing key is 404 NoSuchKey, or 403 AccessDenied when the credentials lack
// s3:ListBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
// "Permissions"). The function only reads keys it reserved with its own credentials, so
// AccessDenied there means "not uploaded yet"; a wrong key or signature has its own codes.
export const STORAGE_TIMEOUT_MS = 10_000;

export const storageUnavailable = () => new ApiError(503, "storage_unavailable", "Object storage did not answer; try again.");

export function createS3Driver(settings: S3Settings, clock: () => Date = () => new Date()): StorageDriver & ObjectStore {
  const client = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    service: "s3",
    region: settings.region,
  });
  const unavailable = storageUnavailable;
  const signed = async (method: string, objectKey: string, headers: Record<string, string> = {}, body?: Uint8Array) =>
    fetch(await presignUrl(client, objectUrl(settings, objectKey), method, 60, headers, clock()), {
      method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    }).catch(() => { throw unavailable(); });

  return {
    name: "s3",
    verifiesSha256: true,
    uploadUrlTtlSeconds: settings.uploadTtlSeconds,
    async createUploadTarget(objectKey, spec): Promise<UploadTarget> {
      const now = clock();
      // What the device sends; Content-Length is signed too but not listed: every PUT
      // with a body carries it, and the device's HTTP client writes it itself.
      const headers: Record<string, string> = { "Content-Type": spec.contentType, "If-None-Match": "*" };
      if (spec.sha256) headers["x-amz-checksum-sha256"] = hexToBase64(spec.sha256);
      const signedHeaders = spec.size === undefined ? headers : { ...headers, "Content-Length": String(spec.size) };
      const publicUrl = objectUrl({ endpoint: settings.publicEndpoint ?? settings.endpoint, bucket: settings.bucket }, objectKey);
      const url = await presignUrl(client, publicUrl, "PUT", settings.uploadTtlSeconds, signedHeaders, now);
      return {
        url,
        method: "PUT",
        headers,
        expiresAt: new Date(now.getTime() + settings.uploadTtlSeconds * 1000),
      };
    },
    async inspectObject(objectKey): Promise<StoredObject> {
      // One ranged GET: the first bytes, and the size from Content-Range.
      const res = await signed("GET", objectKey, { Range: `bytes=0-${INSPECT_BYTES - 1}` });
      if (await isMissing(res)) return { exists: false };
      if (res.status === 416) {
        // S3 answers InvalidRange for any range of an empty object
        await res.body?.cancel();
        return { exists: true, size: 0, head: new Uint8Array() };
      }
      if (res.status !== 206 && res.status !== 200) {
        await res.body?.cancel();
        throw unavailable();
      }
      const head = new Uint8Array(await res.arrayBuffer()).slice(0, INSPECT_BYTES);
      const size = res.status === 206
        ? totalFromContentRange(res.headers.get("content-range"))
        : Number(res.headers.get("content-length") ?? head.length);
      if (size === null || !Number.isFinite(size)) throw unavailable();
      return { exists: true, size, head };
    },
    async getObject(objectKey, maxBytes) {
      const res = await signed("GET", objectKey);
      if (await isMissing(res)) return null;
      if (res.status !== 200) {
        await res.body?.cancel();
        throw unavailable();
      }
      return readAtMost(res, maxBytes);
    },
    async putObject(objectKey, bytes, contentType) {
      const res = await signed("PUT", objectKey, { "Content-Type": contentType }, bytes);
      await res.body?.cancel();
      if (res.status !== 200) throw unavailable();
    },
    async signDownloadUrls(objectKeys, ttlSeconds) {
      const now = clock();
      const publicEndpoint = settings.publicEndpoint ?? settings.endpoint;
      return Promise.all(objectKeys.map((key) =>
        presignUrl(client, objectUrl({ endpoint: publicEndpoint, bucket: settings.bucket }, key), "GET", ttlSeconds, {}, now)
      ));
    },
    async deleteObject(objectKey) {
      const res = await signed("DELETE", objectKey);
      await res.body?.cancel();
      if (res.status !== 204 && res.status !== 200 && res.status !== 404) throw unavailable();
    },
  };
}

/** Whether a GET's answer says there is no such object (its body is consumed if so). */
async function isMissing(res: Response): Promise<boolean> {
  if (res.status === 404) {
    await res.body?.cancel();
    return true;
  }
  if (res.status !== 403) return false;
  return forbiddenMeansMissing(await res.text());
}

/** A 403 GET's XML body: AccessDenied is a key not uploaded yet (true); any other code is
 * a wrong key or signature, which an administrator has to fix (thrown). */
export function forbiddenMeansMissing(xml: string): boolean {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  if (code === "AccessDenied") return true;
  console.error(`devices: object storage refused the function's credentials (${code ?? "403"}); check S3_* settings`);
  throw new ApiError(503, "storage_misconfigured", "The server's storage configuration is wrong; an administrator has to fix it.");
}

/** The body, refused past maxBytes without reading the rest. */
export async function readAtMost(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ObjectTooLargeError(`the object has ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    total += next.value.length;
    if (total > maxBytes) {
      await reader?.cancel();
      throw new ObjectTooLargeError(`the object has more than the ${maxBytes} bytes allowed`);
    }
    chunks.push(next.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}
