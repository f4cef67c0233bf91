// Supabase Storage: signed upload URLs into a private bucket (its size limit and
// allowed MIME types are set by the migration). The device PUTs the raw bytes.
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
        throw new ApiError(503, "storage_unavailable", "Could not create an upload URL; try again.");
      }
      return {
        url: data.signedUrl,
        method: "PUT",
        headers: { "Content-Type": contentType, "x-upsert": "true" },
        expiresAt: new Date(Date.now() + SUPABASE_SIGNED_UPLOAD_TTL_SECONDS * 1000),
      };
    },
    async objectExists(objectKey) {
      const { data, error } = await bucket().exists(objectKey);
      if (error && !isNotFound(error)) {
        throw new ApiError(503, "storage_unavailable", "Object storage did not answer; try again.");
      }
      return data === true;
    },
  };
}

function isNotFound(error: unknown): boolean {
  const e = error as { status?: number; statusCode?: string | number; originalError?: { status?: number } };
  return [e.status, Number(e.statusCode), e.originalError?.status].includes(404) ||
    /not.?found/i.test(String((error as Error).message));
}
