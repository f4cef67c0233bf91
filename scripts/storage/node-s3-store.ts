// The photo worker's S3 client: the same requests as the shared driver
// (functions/_shared/storage/s3.ts: presigned, path-style, the same answers read the same way),
// sent with node:http over kept-alive connections and signed with node:crypto. The worker runs
// under Node beside the project, one GET and two PUTs a photo; fetch's streams and Web Crypto's
// threadpool round trips cost it about a quarter of sharp's own time a photo (docs/photos.md).
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type ObjectStore, ObjectTooLargeError, type StorageDriver } from "../../functions/_shared/storage/driver.ts";
import { forbiddenMeansMissing, objectUrl, type S3Settings, STORAGE_TIMEOUT_MS, storageUnavailable } from "../../functions/_shared/storage/s3.ts";
import { amzDate, canonicalQuery, presignedSignature, signingKey } from "./sigv4.ts";

export type NodeS3Settings = Omit<S3Settings, "uploadTtlSeconds">;
export type NodeS3Store = ObjectStore & Pick<StorageDriver, "deleteObject"> & { close(): void };

type Credentials = Pick<S3Settings, "accessKeyId" | "secretAccessKey" | "region">;

/** `url` presigned, signing `host` and `headers`; `keys` caches the day's signing key. Pure:
 * time is a parameter. */
export function presignNode(creds: Credentials, url: URL, method: string, expiresSeconds: number,
  headers: Record<string, string>, now: Date, keys = new Map<string, Buffer>()): URL {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const signed = [["host", url.host], ...Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])]
    .sort(([a], [b]) => (a < b ? -1 : 1)) as Array<[string, string]>;
  const query = canonicalQuery([
    ...url.searchParams,
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${creds.accessKeyId}/${day}/${creds.region}/s3/aws4_request`],
    ["X-Amz-Date", date],
    ["X-Amz-Expires", String(expiresSeconds)],
    ["X-Amz-SignedHeaders", signed.map(([h]) => h).join(";")],
  ]);
  const keyId = `${day}/${creds.region}`;
  let key = keys.get(keyId);
  if (!key) {
    keys.clear();
    key = signingKey(creds.secretAccessKey, day, creds.region);
    keys.set(keyId, key);
  }
  const signature = presignedSignature({ method, path: url.pathname, query, headers: signed, amzDate: date, region: creds.region }, key);
  return new URL(`${url.origin}${url.pathname}?${query}&X-Amz-Signature=${signature}`);
}

interface Answer {
  status: number;
  /** null when the body was not read (too large: the connection is dropped) */
  body: Buffer | null;
}

export function createNodeS3Store(settings: NodeS3Settings, clock: () => Date = () => new Date()): NodeS3Store {
  const https = new URL(settings.endpoint).protocol === "https:";
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = https ? httpsRequest : httpRequest;
  const signingKeys = new Map<string, Buffer>();

  /** One signed request; the answer's body is read up to maxBytes. */
  const request = (method: string, key: string, headers: Record<string, string> = {}, body?: Uint8Array, maxBytes = Infinity) =>
    new Promise<Answer>((resolve, reject) => {
      const url = presignNode(settings, objectUrl(settings, key), method, 60, headers, clock(), signingKeys);
      const sent = body ? { ...headers, "Content-Length": String(body.length) } : headers;
      const req = send(url, { method, headers: sent, agent, signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS) }, (res) => {
        const declared = Number(res.headers["content-length"] ?? NaN);
        if (declared > maxBytes) {
          res.destroy();
          return resolve({ status: res.statusCode ?? 0, body: null });
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on("data", (c: Buffer) => {
          total += c.length;
          if (total > maxBytes) {
            res.destroy();
            resolve({ status: res.statusCode ?? 0, body: null });
          } else chunks.push(c);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks, total) }));
        res.on("error", () => reject(storageUnavailable()));
        res.on("close", () => { if (!res.complete) reject(storageUnavailable()); }); // cut short
      });
      req.on("error", () => reject(storageUnavailable()));
      req.end(body);
    });

  return {
    async getObject(objectKey, maxBytes) {
      const res = await request("GET", objectKey, {}, undefined, maxBytes);
      if (res.body === null) throw new ObjectTooLargeError(`the object has more than the ${maxBytes} bytes allowed`);
      if (res.status === 404) return null;
      if (res.status === 403 && forbiddenMeansMissing(res.body.toString("utf8"))) return null;
      if (res.status !== 200) throw storageUnavailable();
      return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length);
    },
    async putObject(objectKey, bytes, contentType) {
      const res = await request("PUT", objectKey, { "Content-Type": contentType }, bytes, 64 * 1024);
      if (res.status !== 200) throw storageUnavailable();
    },
    async deleteObject(objectKey) {
      const res = await request("DELETE", objectKey, {}, undefined, 64 * 1024);
      if (res.status !== 204 && res.status !== 200 && res.status !== 404) throw storageUnavailable();
    },
    async signDownloadUrls(objectKeys, ttlSeconds) {
      const now = clock();
      const endpoint = settings.publicEndpoint ?? settings.endpoint;
      return objectKeys.map((key) =>
        presignNode(settings, objectUrl({ endpoint, bucket: settings.bucket }, key), "GET", ttlSeconds, {}, now, signingKeys).toString());
    },
    close: () => agent.destroy(),
  };
}
