// Supabase Storage: signed upload URLs into a private bucket (its size limit and
// allowed MIME types are set by the migration). The device PUTs the raw bytes.
// Called with the project's secret key (or legacy service role key) in both apikey and
// Authorization, as supabase-js sends it; the gateway turns it into a service_role JWT.
import { StorageClient } from "@supabase/storage-js";
import { ApiError } from "../errors.ts";
import type { StorageDriver, UploadTarget } from "./driver.ts";

export interface SupabaseStorageSettings {
  supabaseUrl: string;
  serviceRoleKey: string;
  bucket: string;
}

// Storage's signed upload URLs are valid for two hours; the API does not take a TTL.
export const SUPABASE_SIGNED_UPLOAD_TTL_SECONDS = 2 * 60 * 60;

export function createSupabaseStorageDriver(
  settings: SupabaseStorageSettings,
  fetchImpl: typeof fetch = fetch,
): StorageDriver {
  const client = new StorageClient(`${settings.supabaseUrl.replace(/\/+$/, "")}/storage/v1`, {
    apikey: settings.serviceRoleKey,
    Authorization: `Bearer ${settings.serviceRoleKey}`,
  }, fetchImpl);
  const bucket = () => client.from(settings.bucket);

  return {
    name: "supabase",
    async createUploadTarget(objectKey, contentType): Promise<UploadTarget> {
      const { data, error } = await bucket().createSignedUploadUrl(objectKey, { upsert: true });
      if (error || !data) {
        throw storageFailure(error, "Could not create an upload URL; try again.");
      }
      return {
        url: data.signedUrl,
        method: "PUT",
        headers: { "Content-Type": contentType, "x-upsert": "true" },
        expiresAt: new Date(Date.now() + SUPABASE_SIGNED_UPLOAD_TTL_SECONDS * 1000),
      };
    },
    async objectExists(objectKey) {
      // storage-js answers 400/404 as { data: false } and throws on other statuses (401, 403).
      const { data, error } = await bucket().exists(objectKey).catch((thrown) => ({ data: false, error: thrown }));
      if (error && !isNotFound(error)) {
        throw storageFailure(error, "Object storage did not answer; try again.");
      }
      return data === true;
    },
  };
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
