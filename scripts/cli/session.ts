// A fresh access token for every command. A session from `login --email` carries a refresh
// token; Supabase's own auth client (@supabase/auth-js, the client inside supabase-js) renews
// the access token when it is within 90 s of expiry, reading and writing the session through
// the credentials file. Refresh tokens are single use: the new one is saved before any
// command runs. When a session cannot be renewed, the error says why in words.
import { AuthClient, isAuthApiError, type Session as AuthSession, type SupportedStorage } from "@supabase/auth-js";

import { networkFailureReason } from "./api.ts";
import { credentialsPath, deleteSession, jwtClaims, loadSession, requireSession, saveSession, type Session } from "./credentials.ts";
import { CliError, ExitCode } from "./errors.ts";

const STORAGE_KEY = "lifelog-devices-session";
/** Answered by our fetch when nothing answered, so the auth client gives up at once (no 30 s of retries). */
const UNREACHABLE_STATUS = 599;

/** The auth client's session (expires_at in seconds) as it sees the credentials file, and back. */
export function toAuthSession(s: Session): AuthSession | null {
  if (!s.refresh_token) return null;
  const claims = jwtClaims(s.access_token);
  const expiresAt = s.expires_at ? Math.floor(new Date(s.expires_at).getTime() / 1000) : claims?.exp ?? 0;
  return {
    access_token: s.access_token,
    refresh_token: s.refresh_token,
    token_type: "bearer",
    expires_at: expiresAt,
    expires_in: Math.max(0, expiresAt - Math.floor(Date.now() / 1000)),
    user: { id: claims?.sub ?? "", email: s.email, aud: "authenticated", app_metadata: {}, user_metadata: {}, created_at: "" },
  };
}

/** The credentials file as the auth client's storage. A session Auth refused is deleted; one it could not reach is kept. */
function fileStorage(path: string, base: Session, failures: string[]): SupportedStorage {
  return {
    async getItem() {
      const current = await loadSession(path);
      const session = current && toAuthSession(current);
      return session ? JSON.stringify(session) : null;
    },
    async setItem(_key, value) {
      const next = JSON.parse(value) as AuthSession;
      await saveSession({
        ...base,
        access_token: next.access_token,
        refresh_token: next.refresh_token,
        expires_at: next.expires_at ? new Date(next.expires_at * 1000).toISOString() : undefined,
      }, path);
    },
    async removeItem() {
      if (failures.length === 0) await deleteSession(path);
    },
  };
}

/** fetch that turns "nothing answered" into a 599 and remembers why. */
function reportingFetch(failures: string[]): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      failures.push(networkFailureReason(err));
      return new Response(JSON.stringify({ msg: "unreachable" }), { status: UNREACHABLE_STATUS, headers: { "content-type": "application/json" } });
    }
  };
}

export interface ActiveSession {
  supabaseUrl: string;
  accessToken: string;
}

/** The saved session with an access token valid for at least the next minute and a half. */
export async function activeSession(env: NodeJS.ProcessEnv): Promise<ActiveSession> {
  const path = credentialsPath(env);
  const saved = await loadSession(path);
  if (!saved?.refresh_token) {
    const session = await requireSession(path); // token-only logins: valid until they expire
    return { supabaseUrl: session.supabase_url, accessToken: session.access_token };
  }
  const failures: string[] = [];
  const anonKey = saved.anon_key ?? env.SUPABASE_ANON_KEY;
  const client = new AuthClient({
    url: `${saved.supabase_url}/auth/v1`,
    headers: anonKey ? { apikey: anonKey, authorization: `Bearer ${anonKey}` } : {},
    storage: fileStorage(path, saved, failures),
    storageKey: STORAGE_KEY,
    persistSession: true,
    autoRefreshToken: false,
    detectSessionInUrl: false,
    fetch: reportingFetch(failures),
  });
  const { data, error } = await client.getSession();
  if (error || !data.session) {
    const again = "run `lifelog-devices login` again";
    if (failures.length > 0) {
      throw new CliError(`your session needs renewing but ${saved.supabase_url} cannot be reached: ${failures[0]}`, ExitCode.unreachable);
    }
    if (error && isAuthApiError(error) && error.status === 401 && !anonKey) {
      throw new CliError(`your session could not be renewed: this project wants its anon key; ${again} with --anon-key`, ExitCode.auth);
    }
    const why = error?.message ? `: Supabase Auth says "${error.message}"` : "";
    throw new CliError(`your session has expired and could not be renewed${why}; ${again}`, ExitCode.auth);
  }
  return { supabaseUrl: saved.supabase_url, accessToken: data.session.access_token };
}
