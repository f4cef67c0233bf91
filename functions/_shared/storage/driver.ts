/** Where a device PUTs a photo: a URL signed for one object, and the headers to send. */
export interface UploadTarget {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: Date;
}

/** What the upload is signed for; the store refuses other bytes where it can. */
export interface UploadSpec {
  contentType: string;
  /** exact byte count (a signed Content-Length with S3) */
  size?: number;
  /** hex SHA-256 of the bytes (a signed x-amz-checksum-sha256 with S3: the store compares) */
  sha256?: string;
}

/** What storage holds under a key: enough to judge it without reading it all. */
export type StoredObject =
  | { exists: false }
  | { exists: true; size: number; /** the first bytes (at most INSPECT_BYTES) */ head: Uint8Array };

export const INSPECT_BYTES = 16;

export interface StorageDriver {
  readonly name: string;
  /** Whether the store itself refuses a PUT whose bytes differ from the signed SHA-256. */
  readonly verifiesSha256: boolean;
  /** Set when the function's own database lists the store's objects (Supabase Storage's
   * storage.objects): ingest then judges the object there, in its one SQL call. */
  readonly databaseBucket?: string;
  /** How long the upload URLs this driver signs stay usable: a reservation lives at least as long. */
  readonly uploadUrlTtlSeconds: number;
  /** Signed for one object that does not exist yet: no driver overwrites. */
  createUploadTarget(objectKey: string, spec: UploadSpec): Promise<UploadTarget>;
  inspectObject(objectKey: string): Promise<StoredObject>;
  /** Deletes the object; an absent object is not an error. */
  deleteObject(objectKey: string): Promise<void>;
}

/** What the photo worker and the owner routes do with objects besides device uploads. */
export interface ObjectStore {
  /** The object's bytes, or null when there is none; more than maxBytes is an error. */
  getObject(objectKey: string, maxBytes: number): Promise<Uint8Array | null>;
  /** Writes (or overwrites) the object: derivative keys are deterministic, so a re-run replaces. */
  putObject(objectKey: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** Short-lived GET URLs for many objects, in one call where the store has one. */
  signDownloadUrls(objectKeys: string[], ttlSeconds: number): Promise<string[]>;
}

export class ObjectTooLargeError extends Error {}

/** `url` split the way the firmware's socket code needs it. */
export function splitUploadUrl(url: string): { host: string; port: number; path: string } {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
  return { host: u.hostname, port, path: `${u.pathname}${u.search}` };
}

/** JPEG files start with SOI (FF D8) followed by a marker (FF). */
export function looksLikeJpeg(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/** "bytes 0-15/12345" → 12345 (RFC 9110 §14.4), or null. */
export function totalFromContentRange(value: string | null): number | null {
  const m = /^bytes (?:\d+-\d+|\*)\/(\d+)$/.exec(value?.trim() ?? "");
  return m ? Number(m[1]) : null;
}

export function hexToBase64(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return btoa(String.fromCharCode(...bytes));
}
