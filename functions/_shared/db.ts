// The function's own Postgres connection (SUPABASE_DB_URL). Route logic runs inside
// device_api SQL functions; their refusals arrive as SQLSTATE 'LD<status>' and become
// ApiErrors here, in one place.
import postgres from "postgres";
import { ApiError } from "./errors.ts";

export type Sql = postgres.Sql;

// Every isolate of the function has its own pool, and the platform runs as many isolates
// as the load needs: a small pool per isolate, released when idle (docs/deploy.md#connections).
export function connectDatabase(url: string, maxConnections: number): Sql {
  return postgres(url, {
    prepare: false, // Supabase's transaction pooler has no prepared statements
    max: maxConnections,
    idle_timeout: 10,
    connect_timeout: 10,
    onnotice: () => {},
  });
}

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

export function apiErrorFromDatabase(err: unknown): unknown {
  const e = err as PgErrorLike;
  const match = typeof e?.code === "string" ? /^LD(\d{3})$/.exec(e.code) : null;
  if (!match) return err;
  const retryAfter = e.hint ? Number(e.hint) : undefined;
  return new ApiError(Number(match[1]), e.message ?? "error", e.detail ?? "", {
    retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
  });
}

/** Runs one device_api call, translating its raised errors into ApiErrors. */
export async function callDeviceApi<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw apiErrorFromDatabase(err);
  }
}
