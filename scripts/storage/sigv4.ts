// SigV4 for query-string-signed (presigned) S3 requests, with node:crypto: the canonical
// request and signature that both the local stack's gate (verifying) and the photo worker's
// store (signing) compute. Pure. Checked against AWS's published presigned-URL example
// (tests/storage/sigv4-gate.test.ts, tests/storage/node-s3-store.test.ts); the Edge Function
// signs with aws4fetch instead, so the gate still checks that signer independently.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
import { createHash, createHmac } from "node:crypto";

export const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s, "utf8").digest();

/** The query as SigV4 canonicalizes it: RFC 3986-encoded, sorted by name then value, no signature. */
export function canonicalQuery(params: Iterable<[string, string]>): string {
  return [...params]
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export interface PresignedParts {
  method: string;
  /** the URI path as sent, already encoded */
  path: string;
  /** the canonical query (canonicalQuery) */
  query: string;
  /** signed header names, lower case and sorted, with their values (host included) */
  headers: Array<[string, string]>;
  amzDate: string;
  region: string;
}

/** The derived key of one day, region and service: the same for every request of that day. */
export function signingKey(secretAccessKey: string, day: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), "s3"), "aws4_request");
}

/** The request's signature (hex) under `key` (signingKey of the request's day and region). */
export function presignedSignature(parts: PresignedParts, key: Buffer): string {
  const canonicalRequest = [
    parts.method,
    parts.path,
    parts.query,
    parts.headers.map(([h, v]) => `${h}:${v.trim().replace(/\s+/g, " ")}\n`).join(""),
    parts.headers.map(([h]) => h).join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const scope = `${parts.amzDate.slice(0, 8)}/${parts.region}/s3/aws4_request`;
  const digest = createHash("sha256").update(canonicalRequest, "utf8").digest("hex");
  return createHmac("sha256", key).update(["AWS4-HMAC-SHA256", parts.amzDate, scope, digest].join("\n"), "utf8").digest("hex");
}

/** "2013-05-24T00:00:00.000Z" → "20130524T000000Z" */
export const amzDate = (now: Date) => now.toISOString().replace(/[:-]|\.\d{3}/g, "");
