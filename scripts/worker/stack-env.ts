// The worker's environment for the local stack (npm start, tests): its database and its
// S3-compatible store behind the SigV4 gate.
import { LOCAL_S3_CREDENTIALS } from "../stack/object-store.ts";
import type { StackInfo } from "../stack/stack.ts";

export function localWorkerEnv(info: StackInfo): Record<string, string> {
  return {
    SUPABASE_URL: info.supabase_url,
    SUPABASE_DB_URL: info.db_url,
    DEVICE_STORAGE_DRIVER: "s3",
    DEVICE_STORAGE_BUCKET: info.storage.bucket,
    S3_ENDPOINT: info.storage.endpoint,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  };
}
