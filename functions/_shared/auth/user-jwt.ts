// Signed-in users: a Supabase access token verified against the project's signing keys.
// Asymmetric keys come from the injected SUPABASE_JWKS and, for a `kid` not in it (a key
// rotated in after the function started), from the project's JWKS URL; projects still
// on the legacy JWT secret have their HS256 tokens checked against that secret.
import {
  createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, type JWTPayload,
  jwtVerify, type JWTVerifyGetKey,
} from "jose";
import { ApiError } from "../errors.ts";

// auth.users ids are uuids; anything else would fail in the database as a 500.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UserJwtSettings {
  supabaseUrl: string;
  /** SUPABASE_JWKS as injected: `{"keys":[…]}` or a bare `[…]` */
  jwks?: string;
  legacyJwtSecret?: string;
  /** the JWKS URL is fetched again for an unknown kid at most this often (jose's cooldown) */
  jwksRefreshCooldownMs?: number;
}

export interface SignedInUser {
  userId: string;
  claims: JWTPayload;
}

export type UserVerifier = (req: Request) => Promise<SignedInUser>;

/** The injected key set in either shape Supabase uses, or undefined when absent or unreadable. */
export function parseJwks(raw: string | undefined): JSONWebKeySet | undefined {
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown })?.keys;
    if (Array.isArray(keys) && keys.every((k) => typeof k === "object" && k !== null)) {
      return { keys: keys as JSONWebKeySet["keys"] };
    }
  } catch { /* reported below */ }
  console.warn("devices: SUPABASE_JWKS is not a JSON Web Key Set; using the project's JWKS URL only");
  return undefined;
}

/** The JWKS URL could not be read (Auth down, slow, or answering an error): not the token's fault. */
class KeysUnavailable extends Error {}

export function createUserVerifier(settings: UserJwtSettings): UserVerifier {
  const authBase = `${settings.supabaseUrl.replace(/\/+$/, "")}/auth/v1`;
  const injected = parseJwks(settings.jwks);
  const injectedKids = new Set(injected?.keys.map((k) => k.kid).filter((kid) => kid !== undefined));
  const localKeys = injected ? createLocalJWKSet(injected) : undefined;
  // jose caches the set and refetches on an unknown kid at most once per cooldown
  // (default 30 s), so tokens with made-up kids cannot make us hammer Auth.
  const remoteSet = createRemoteJWKSet(new URL(`${authBase}/.well-known/jwks.json`), {
    cooldownDuration: settings.jwksRefreshCooldownMs ?? 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  const remoteKeys: JWTVerifyGetKey = (header, token) =>
    remoteSet(header, token).catch((err) => {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      throw new KeysUnavailable(String(err));
    });
  const legacyKey = settings.legacyJwtSecret ? new TextEncoder().encode(settings.legacyJwtSecret) : undefined;
  // Supabase Auth always sets exp and sub: a token without them is not one of its own.
  const options = { issuer: authBase, audience: "authenticated", requiredClaims: ["exp", "sub"] };

  const verifyToken = async (token: string): Promise<JWTPayload> => {
    const { alg, kid } = decodeProtectedHeader(token);
    if (alg === "HS256") {
      if (!legacyKey) throw new Error("HS256 token and no legacy secret");
      return (await jwtVerify(token, legacyKey, { ...options, algorithms: ["HS256"] })).payload;
    }
    const keys = localKeys && (kid === undefined || injectedKids.has(kid)) ? localKeys : remoteKeys;
    return (await jwtVerify(token, keys, options)).payload;
  };

  return async (req) => {
    const header = req.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new ApiError(401, "missing_authorization", "Sign in and send your access token as a Bearer token.");
    }
    let payload: JWTPayload;
    try {
      payload = await verifyToken(match[1]);
    } catch (err) {
      if (err instanceof KeysUnavailable) {
        console.error("devices: the project's JWKS URL could not be read:", err.message);
        throw new ApiError(503, "auth_unavailable", "Could not check the access token right now; try again.");
      }
      throw new ApiError(401, "invalid_authorization", "The access token is invalid or has expired. Sign in again.");
    }
    if (payload.role !== "authenticated" || typeof payload.sub !== "string" || !UUID.test(payload.sub)) {
      throw new ApiError(401, "invalid_authorization", "The access token does not belong to a signed-in user.");
    }
    return { userId: payload.sub, claims: payload };
  };
}
