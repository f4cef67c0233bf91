// Supabase Storage: signed upload URLs into a private bucket (its size limit and
// allowed MIME types are set by the migration). The device PUTs the raw bytes.
// Called with the project's secret key (or legacy service role key) in both apikey and
// Authorization, as supabase-js sends it; the gateway turns it into a service_role JWT.
import { StorageClient } from "@supabase/storage-js";
import { ApiError } from "../errors.ts";
import { encodeKeyPath, readAtMost } from "./s3.ts";
import { INSPECT_BYTES, type ObjectStore, type StorageDriver, type StoredObject, totalFromContentRange, type UploadTarget } from "./driver.ts";

export interface SupabaseStorageSettings {
  supabaseUrl: string;
  serviceRoleKey: string;
  bucket: string;
}

// Storage's signed upload URLs are valid for two hours (a server setting); the API does
// not take a TTL. For shorter ones use the s3 driver with Storage's S3 endpoint.
export const SUPABASE_SIGNED_UPLOAD_TTL_SECONDS = 2 * 60 * 60;

export function createSupabaseStorageDriver(
  settings: SupabaseStorageSettings,
  fetchImpl: typeof fetch = fetch,
): StorageDriver & ObjectStore {
  const client = new StorageClient(`${settings.supabaseUrl.replace(/\/+$/, "")}/storage/v1`, {
    apikey: settings.serviceRoleKey,
    Authorization: `Bearer ${settings.serviceRoleKey}`,
  }, fetchImpl);
  const bucket = () => client.from(settings.bucket);

  const storageUrl = `${settings.supabaseUrl.replace(/\/+$/, "")}/storage/v1`;
  const unavailable = () => new ApiError(503, "storage_unavailable", "Object storage did not answer; try again.");

  return {
    name: "supabase",
    // Storage does not compare the bytes with a checksum; the SHA-256 the camera
    // declares is recorded unverified.
    verifiesSha256: false,
    databaseBucket: settings.bucket,
    uploadUrlTtlSeconds: SUPABASE_SIGNED_UPLOAD_TTL_SECONDS,
    async createUploadTarget(objectKey, spec): Promise<UploadTarget> {
      // No upsert: Storage refuses a second upload to an existing key. The bucket's
      // file_size_limit and allowed_mime_types (set by the migration) bound the bytes.
      const { data, error } = await bucket().createSignedUploadUrl(objectKey);
      if (error || !data) throw storageFailure(error, "Could not create an upload URL; try again.");
      return {
        url: data.signedUrl,
        method: "PUT",
        headers: { "Content-Type": spec.contentType },
        expiresAt: signedTokenExpiry(data.signedUrl) ?? new Date(Date.now() + SUPABASE_SIGNED_UPLOAD_TTL_SECONDS * 1000),
      };
    },
    async inspectObject(objectKey): Promise<StoredObject> {
      // One ranged GET (Storage serves Range requests): the first bytes and, from
      // Content-Range, the size.
      const res = await fetchImpl(`${storageUrl}/object/authenticated/${settings.bucket}/${encodeKeyPath(objectKey)}`, {
        headers: {
          apikey: settings.serviceRoleKey,
          authorization: `Bearer ${settings.serviceRoleKey}`,
          range: `bytes=0-${INSPECT_BYTES - 1}`,
        },
      }).catch(() => { throw unavailable(); });
      if (res.status === 404 || res.status === 400) {
        // Storage answers a missing object with 400 {"statusCode":"404"} or with 404
        const body = await res.text();
        if (res.status === 404 || /"statusCode"\s*:\s*"404"|not.?found/i.test(body)) return { exists: false };
        const statusCode = /"statusCode"\s*:\s*"(\d+)"/.exec(body)?.[1];
        throw storageFailure({ status: res.status, statusCode }, "Object storage did not answer; try again.");
      }
      if (res.status === 416) {
        await res.body?.cancel();
        return { exists: true, size: 0, head: new Uint8Array() };
      }
      if (res.status !== 206 && res.status !== 200) {
        await res.body?.cancel();
        throw storageFailure({ status: res.status }, "Object storage did not answer; try again.");
      }
      const head = new Uint8Array(await res.arrayBuffer()).slice(0, INSPECT_BYTES);
      const size = res.status === 206 ? totalFromContentRange(res.headers.get("content-range")) : head.length;
      if (size === null) throw unavailable();
      return { exists: true, size, head };
    },
    async getObject(objectKey, maxBytes) {
      const res = await fetchImpl(`${storageUrl}/object/authenticated/${settings.bucket}/${encodeKeyPath(objectKey)}`, {
        headers: { apikey: settings.serviceRoleKey, authorization: `Bearer ${settings.serviceRoleKey}` },
      }).catch(() => { throw unavailable(); });
      if (res.status === 404 || res.status === 400) {
        const body = await res.text();
        if (res.status === 404 || /"statusCode"\s*:\s*"404"|not.?found/i.test(body)) return null;
        throw storageFailure({ status: res.status }, "Object storage did not answer; try again.");
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw storageFailure({ status: res.status }, "Object storage did not answer; try again.");
      }
      return readAtMost(res, maxBytes);
    },
    async putObject(objectKey, bytes, contentType) {
      const { error } = await bucket().upload(objectKey, bytes, { contentType, upsert: true });
      if (error) throw storageFailure(error, "Object storage did not answer; try again.");
    },
    async signDownloadUrls(objectKeys, ttlSeconds) {
      if (objectKeys.length === 0) return [];
      const { data, error } = await bucket().createSignedUrls(objectKeys, ttlSeconds);
      if (error || !data) throw storageFailure(error, "Could not sign download URLs; try again.");
      const byPath = new Map(data.map((d) => [d.path, d.signedUrl]));
      return objectKeys.map((key) => {
        const url = byPath.get(key);
        if (!url) throw storageFailure(null, "Could not sign download URLs; try again.");
        return url;
      });
    },
    async deleteObject(objectKey) {
      const { error } = await bucket().remove([objectKey]);
      if (error && !isNotFound(error)) throw storageFailure(error, "Object storage did not answer; try again.");
    },
  };
}

/** The `exp` of the JWT in a signed URL's `token` parameter (what Storage checks), if it has one. */
export function signedTokenExpiry(signedUrl: string): Date | null {
  try {
    const token = new URL(signedUrl).searchParams.get("token") ?? "";
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: unknown };
    return typeof payload.exp === "number" && Number.isFinite(payload.exp) ? new Date(payload.exp * 1000) : null;
  } catch {
    return null;
  }
}

// Storage answers a key it does not accept with 401/403, or with 400 and the real status
// in the body's statusCode ({"statusCode":"403","error":"Unauthorized",…}); the gateway
// answers a wrong apikey with 401 {"message":"Invalid API key"}.
function isUnauthorised(error: unknown): boolean {
  const e = error as { status?: number; statusCode?: string | number; originalError?: { status?: number } };
  return [e.status, Number(e.statusCode), e.originalError?.status].some((s) => s === 401 || s === 403);
}

/** A refused key is the deployment's fault, not a passing outage: say so, once per request, in the log. */
function storageFailure(error: unknown, transientMessage: string): ApiError {
  if (isUnauthorised(error)) {
    console.error("devices: Supabase Storage refused the function's key (check SUPABASE_SECRET_KEYS / SUPABASE_SERVICE_ROLE_KEY)");
    return new ApiError(503, "storage_misconfigured", "The server's storage configuration is wrong; an administrator has to fix it.");
  }
  return new ApiError(503, "storage_unavailable", transientMessage);
}

function isNotFound(error: unknown): boolean {
  const e = error as { status?: number; statusCode?: string | number; originalError?: { status?: number } };
  return [e.status, Number(e.statusCode), e.originalError?.status].includes(404) ||
    /not.?found/i.test(String((error as Error).message));
}
