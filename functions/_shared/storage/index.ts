import type { Config } from "../config.ts";
import type { ObjectStore, StorageDriver } from "./driver.ts";
import { createS3Driver } from "./s3.ts";
import { createSupabaseStorageDriver } from "./supabase.ts";

export function createStorageDriver(config: Pick<Config, "storage" | "supabaseUrl" | "uploadTtlSeconds">): StorageDriver & ObjectStore {
  const s = config.storage;
  if (s.driver === "s3") {
    return createS3Driver({ ...s, uploadTtlSeconds: config.uploadTtlSeconds });
  }
  return createSupabaseStorageDriver({ supabaseUrl: config.supabaseUrl, serviceRoleKey: s.serviceRoleKey, bucket: s.bucket });
}
