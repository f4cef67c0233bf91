// Settings from the environment: the names Supabase injects into every Edge Function
// (SUPABASE_URL, SUPABASE_DB_URL, SUPABASE_SECRET_KEYS or the legacy
// SUPABASE_SERVICE_ROLE_KEY, SUPABASE_JWKS) plus this project's function secrets.
// Validated once at start-up, never logged.
import { z } from "zod";

const optional = z.string().trim().min(1).optional().catch(undefined);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const EnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_DB_URL: z.string().min(1),
  // {"default":"sb_secret_…", …}: projects with the new API keys (Supabase docs, functions/secrets)
  SUPABASE_SECRET_KEYS: optional,
  SUPABASE_SERVICE_ROLE_KEY: optional,
  SUPABASE_JWKS: optional,
  // `supabase secrets set` skips names starting with SUPABASE_, so the legacy HS256 secret
  // is set under this name; SUPABASE_JWT_SECRET is still read where it can be set (self-hosting).
  DEVICE_LEGACY_JWT_SECRET: optional,
  SUPABASE_JWT_SECRET: optional,
  // A pooler connection string to use instead of SUPABASE_DB_URL (docs/deploy.md#connections).
  DEVICE_DB_URL: optional,
  DEVICE_DB_POOL_SIZE: positiveInt(2),
  DEVICE_TOKEN_PEPPER: z.string().min(32, "DEVICE_TOKEN_PEPPER must be at least 32 characters"),
  DEVICE_STORAGE_DRIVER: z.enum(["supabase", "s3"]).default("supabase"),
  DEVICE_STORAGE_BUCKET: z.string().min(3).default("device-photos"),
  // Life of an upload URL (s3 driver): storage writes end this long after a revoke.
  DEVICE_UPLOAD_TTL_SECONDS: positiveInt(300),
  DEVICE_MAX_PHOTO_BYTES: positiveInt(10 * 1024 * 1024),
  DEVICE_PAIRING_TTL_SECONDS: positiveInt(600),
  DEVICE_PAIRINGS_PER_HOUR: positiveInt(20),
  // Distinct sources whose wrong guesses one pairing code takes in its life (docs/security.md).
  DEVICE_ACTIVATION_FAILURES: positiveInt(5),
  // Failed activations one source (client address) may make per 10 minutes.
  DEVICE_ACTIVATION_FAILURES_PER_SOURCE: positiveInt(5),
  // The header that carries the client's address, set by the platform in front of the function.
  DEVICE_CLIENT_IP_HEADER: z.string().trim().toLowerCase().min(1).default("cf-connecting-ip"),
  // Failed activations of all clients together per minute: protects the database only.
  DEVICE_ACTIVATION_FAILURES_PER_MINUTE: positiveInt(600),
  // Requests per minute to each device route, per device and per account (all its devices).
  DEVICE_REQUESTS_PER_MINUTE: positiveInt(300),
  DEVICE_ACCOUNT_REQUESTS_PER_MINUTE: positiveInt(1200),
  // Uploads reserved and not ingested a device may hold, and how long until the sweeper takes them.
  DEVICE_MAX_OUTSTANDING_UPLOADS: positiveInt(32),
  // Well below the camera's 15 s network timeout, leaving room for the SQL call after the reads.
  DEVICE_INGEST_STORAGE_DEADLINE_MS: positiveInt(6000),
  DEVICE_RESERVATION_TTL_SECONDS: positiveInt(24 * 60 * 60),
  // The lifecycle routes: the heartbeat's "call again in" (a pause takes effect within it),
  // the token age at which it asks for a rotation, and each route's hourly limit.
  DEVICE_HEARTBEAT_INTERVAL_SECONDS: positiveInt(60),
  DEVICE_TOKEN_MAX_AGE_SECONDS: positiveInt(90 * 24 * 3600),
  DEVICE_HEARTBEATS_PER_HOUR: positiveInt(360),
  DEVICE_ROTATIONS_PER_HOUR: positiveInt(10),
  DEVICE_LISTINGS_PER_HOUR: positiveInt(600),
  // rename, revoke and settings together, per user
  DEVICE_CHANGES_PER_HOUR: positiveInt(300),
  // The owner's photo routes: the life of the thumbnail and preview URLs a listing signs,
  // and each route's hourly limit per user.
  DEVICE_PHOTO_URL_TTL_SECONDS: positiveInt(600),
  DEVICE_PHOTO_LISTINGS_PER_HOUR: positiveInt(3600),
  DEVICE_PINS_PER_HOUR: positiveInt(1200),
  DEVICE_RETENTION_CHANGES_PER_HOUR: positiveInt(60),
  S3_ENDPOINT: optional,
  // The endpoint as devices reach it, when it differs from the function's (proxies, NAT).
  S3_PUBLIC_ENDPOINT: optional,
  S3_REGION: z.string().default("us-east-1"),
  S3_ACCESS_KEY_ID: optional,
  S3_SECRET_ACCESS_KEY: optional,
});

export interface Config {
  supabaseUrl: string;
  dbUrl: string;
  dbPoolSize: number;
  jwks?: string;
  legacyJwtSecret?: string;
  tokenPepper: string;
  storage:
    | { driver: "supabase"; bucket: string; serviceRoleKey: string }
    | {
      driver: "s3";
      bucket: string;
      endpoint: string;
      publicEndpoint: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
    };
  uploadTtlSeconds: number;
  maxPhotoBytes: number;
  pairingTtlSeconds: number;
  pairingsPerHour: number;
  activationFailuresPerCode: number;
  activationFailuresPerMinute: number;
  activationFailuresPerSource: number;
  clientIpHeader: string;
  requestsPerMinute: { device: number; account: number };
  maxOutstandingUploads: number;
  /** storage reads of one ingest request stop here; items not read answer 503 storage_busy */
  ingestStorageDeadlineMs: number;
  reservationTtlSeconds: number;
  heartbeatIntervalSeconds: number;
  tokenMaxAgeSeconds: number;
  heartbeatsPerHour: number;
  rotationsPerHour: number;
  listingsPerHour: number;
  changesPerHour: number;
  photoUrlTtlSeconds: number;
  photoListingsPerHour: number;
  pinsPerHour: number;
  retentionChangesPerHour: number;
}

/** The rate limits routes declare (route.ts `limits`), by the variables that set them. */
export const LIMIT_ENV = {
  pairingsPerHour: ["DEVICE_PAIRINGS_PER_HOUR"],
  activationFailures: ["DEVICE_ACTIVATION_FAILURES_PER_SOURCE", "DEVICE_ACTIVATION_FAILURES", "DEVICE_ACTIVATION_FAILURES_PER_MINUTE"],
  requestsPerMinute: ["DEVICE_REQUESTS_PER_MINUTE", "DEVICE_ACCOUNT_REQUESTS_PER_MINUTE"],
  maxOutstandingUploads: ["DEVICE_MAX_OUTSTANDING_UPLOADS"],
  heartbeatsPerHour: ["DEVICE_HEARTBEATS_PER_HOUR"],
  rotationsPerHour: ["DEVICE_ROTATIONS_PER_HOUR"],
  listingsPerHour: ["DEVICE_LISTINGS_PER_HOUR"],
  changesPerHour: ["DEVICE_CHANGES_PER_HOUR"],
  photoListingsPerHour: ["DEVICE_PHOTO_LISTINGS_PER_HOUR"],
  pinsPerHour: ["DEVICE_PINS_PER_HOUR"],
  retentionChangesPerHour: ["DEVICE_RETENTION_CHANGES_PER_HOUR"],
} as const satisfies Record<string, readonly (keyof z.infer<typeof EnvSchema>)[]>;
export type LimitName = keyof typeof LIMIT_ENV;

/** Each variable's default, as loadConfig applies it (the route table shows them). */
export function envDefaults(): Record<string, unknown> {
  return EnvSchema.parse({ SUPABASE_URL: "http://x", SUPABASE_DB_URL: "x", DEVICE_TOKEN_PEPPER: "x".repeat(32) });
}

export class ConfigError extends Error {}

/** The key Storage is called with: the "default" secret key (or the only one), else the legacy service role key. */
export function serviceKey(secretKeysJson: string | undefined, legacyServiceRoleKey: string | undefined): string | undefined {
  if (secretKeysJson) {
    let keys: unknown;
    try {
      keys = JSON.parse(secretKeysJson);
    } catch {
      throw new ConfigError("SUPABASE_SECRET_KEYS is not JSON");
    }
    if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
      throw new ConfigError("SUPABASE_SECRET_KEYS is not a JSON object of named keys");
    }
    const named = keys as Record<string, unknown>;
    const chosen = named.default ?? Object.values(named)[0];
    if (typeof chosen === "string" && chosen.length > 0) return chosen;
  }
  return legacyServiceRoleKey;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const e = parseEnv(EnvSchema, env, "function configuration");
  const storage = storageFromEnv(e);
  return {
    supabaseUrl: e.SUPABASE_URL,
    dbUrl: e.DEVICE_DB_URL ?? e.SUPABASE_DB_URL,
    dbPoolSize: e.DEVICE_DB_POOL_SIZE,
    jwks: e.SUPABASE_JWKS,
    legacyJwtSecret: e.DEVICE_LEGACY_JWT_SECRET ?? e.SUPABASE_JWT_SECRET,
    tokenPepper: e.DEVICE_TOKEN_PEPPER,
    storage,
    uploadTtlSeconds: e.DEVICE_UPLOAD_TTL_SECONDS,
    maxPhotoBytes: e.DEVICE_MAX_PHOTO_BYTES,
    pairingTtlSeconds: e.DEVICE_PAIRING_TTL_SECONDS,
    pairingsPerHour: e.DEVICE_PAIRINGS_PER_HOUR,
    activationFailuresPerCode: e.DEVICE_ACTIVATION_FAILURES,
    activationFailuresPerMinute: e.DEVICE_ACTIVATION_FAILURES_PER_MINUTE,
    activationFailuresPerSource: e.DEVICE_ACTIVATION_FAILURES_PER_SOURCE,
    clientIpHeader: e.DEVICE_CLIENT_IP_HEADER,
    requestsPerMinute: { device: e.DEVICE_REQUESTS_PER_MINUTE, account: e.DEVICE_ACCOUNT_REQUESTS_PER_MINUTE },
    maxOutstandingUploads: e.DEVICE_MAX_OUTSTANDING_UPLOADS,
    ingestStorageDeadlineMs: e.DEVICE_INGEST_STORAGE_DEADLINE_MS,
    reservationTtlSeconds: e.DEVICE_RESERVATION_TTL_SECONDS,
    heartbeatIntervalSeconds: e.DEVICE_HEARTBEAT_INTERVAL_SECONDS,
    tokenMaxAgeSeconds: e.DEVICE_TOKEN_MAX_AGE_SECONDS,
    heartbeatsPerHour: e.DEVICE_HEARTBEATS_PER_HOUR,
    rotationsPerHour: e.DEVICE_ROTATIONS_PER_HOUR,
    listingsPerHour: e.DEVICE_LISTINGS_PER_HOUR,
    changesPerHour: e.DEVICE_CHANGES_PER_HOUR,
    photoUrlTtlSeconds: e.DEVICE_PHOTO_URL_TTL_SECONDS,
    photoListingsPerHour: e.DEVICE_PHOTO_LISTINGS_PER_HOUR,
    pinsPerHour: e.DEVICE_PINS_PER_HOUR,
    retentionChangesPerHour: e.DEVICE_RETENTION_CHANGES_PER_HOUR,
  };
}

const StorageEnvSchema = EnvSchema.pick({
  SUPABASE_URL: true, SUPABASE_DB_URL: true, DEVICE_DB_URL: true, SUPABASE_SECRET_KEYS: true,
  SUPABASE_SERVICE_ROLE_KEY: true, DEVICE_STORAGE_DRIVER: true, DEVICE_STORAGE_BUCKET: true,
  DEVICE_UPLOAD_TTL_SECONDS: true, DEVICE_MAX_PHOTO_BYTES: true, S3_ENDPOINT: true, S3_PUBLIC_ENDPOINT: true,
  S3_REGION: true, S3_ACCESS_KEY_ID: true, S3_SECRET_ACCESS_KEY: true,
});

/** What a process beside the function (the photo worker) needs: the database and the storage driver. */
export function loadStorageConfig(env: Record<string, string | undefined>):
  Pick<Config, "supabaseUrl" | "dbUrl" | "storage" | "uploadTtlSeconds" | "maxPhotoBytes"> {
  const e = parseEnv(StorageEnvSchema, env, "configuration");
  return {
    supabaseUrl: e.SUPABASE_URL,
    dbUrl: e.DEVICE_DB_URL ?? e.SUPABASE_DB_URL,
    storage: storageFromEnv(e),
    uploadTtlSeconds: e.DEVICE_UPLOAD_TTL_SECONDS,
    maxPhotoBytes: e.DEVICE_MAX_PHOTO_BYTES,
  };
}

function storageFromEnv(e: z.infer<typeof StorageEnvSchema>): Config["storage"] {
  let storage: Config["storage"];
  if (e.DEVICE_STORAGE_DRIVER === "s3") {
    if (!e.S3_ENDPOINT || !e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY) {
      throw new ConfigError("The s3 storage driver needs S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY");
    }
    storage = {
      driver: "s3",
      bucket: e.DEVICE_STORAGE_BUCKET,
      endpoint: e.S3_ENDPOINT,
      publicEndpoint: e.S3_PUBLIC_ENDPOINT ?? e.S3_ENDPOINT,
      region: e.S3_REGION,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
    };
  } else {
    const key = serviceKey(e.SUPABASE_SECRET_KEYS, e.SUPABASE_SERVICE_ROLE_KEY);
    if (!key) {
      throw new ConfigError("The supabase storage driver needs SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY");
    }
    storage = { driver: "supabase", bucket: e.DEVICE_STORAGE_BUCKET, serviceRoleKey: key };
  }
  return storage;
}

function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, what: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid ${what}: ${names}`);
  }
  return parsed.data;
}
