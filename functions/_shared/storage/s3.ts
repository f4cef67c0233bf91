// S3-compatible storage (Supabase's S3 endpoint, AWS S3, R2, MinIO, GCS HMAC) through
// SigV4 query-string presigning. Path-style URLs: <endpoint>/<bucket>/<key>.
import { AwsClient } from "aws4fetch";
import { ApiError } from "../errors.ts";
import type { StorageDriver, UploadTarget } from "./driver.ts";

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

export function createS3Driver(settings: S3Settings, clock: () => Date = () => new Date()): StorageDriver {
  const client = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    service: "s3",
    region: settings.region,
  });

  return {
    name: "s3",
    async createUploadTarget(objectKey, contentType): Promise<UploadTarget> {
      const now = clock();
      const headers = { "Content-Type": contentType };
      const publicUrl = objectUrl({ endpoint: settings.publicEndpoint ?? settings.endpoint, bucket: settings.bucket }, objectKey);
      const url = await presignUrl(client, publicUrl, "PUT", settings.uploadTtlSeconds, headers, now);
      return {
        url,
        method: "PUT",
        headers,
        expiresAt: new Date(now.getTime() + settings.uploadTtlSeconds * 1000),
      };
    },
    async objectExists(objectKey) {
      const url = await presignUrl(client, objectUrl(settings, objectKey), "HEAD", 60, {}, clock());
      const res = await fetch(url, { method: "HEAD" });
      await res.body?.cancel();
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw new ApiError(503, "storage_unavailable", "Object storage did not answer; try again.");
    },
  };
}
