// Signed-in users: a Supabase access token verified against the project's JWKS
// (asymmetric keys) or, for projects still on it, the legacy HS256 secret.
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { ApiError } from "../errors.ts";

// auth.users ids are uuids; anything else would fail in the database as a 500.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UserJwtSettings {
  supabaseUrl: string;
  /** JWKS JSON when injected; otherwise fetched from SUPABASE_URL/auth/v1/.well-known/jwks.json */
  jwks?: string;
  legacyJwtSecret?: string;
}

export interface SignedInUser {
  userId: string;
  claims: JWTPayload;
}

export type UserVerifier = (req: Request) => Promise<SignedInUser>;

export function createUserVerifier(settings: UserJwtSettings): UserVerifier {
  const authBase = `${settings.supabaseUrl.replace(/\/+$/, "")}/auth/v1`;
  const keySet = settings.jwks
    ? createLocalJWKSet(JSON.parse(settings.jwks))
    : createRemoteJWKSet(new URL(`${authBase}/.well-known/jwks.json`));
  const legacyKey = settings.legacyJwtSecret
    ? new TextEncoder().encode(settings.legacyJwtSecret)
    : undefined;
  // Supabase Auth always sets exp and sub: a token without them is not one of its own.
  const options = { issuer: authBase, audience: "authenticated", requiredClaims: ["exp", "sub"] };

  return async (req) => {
    const header = req.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new ApiError(401, "missing_authorization", "Sign in and send your access token as a Bearer token.");
    }
    const token = match[1];
    let payload: JWTPayload;
    try {
      payload = decodeProtectedHeader(token).alg === "HS256" && legacyKey
        ? (await jwtVerify(token, legacyKey, { ...options, algorithms: ["HS256"] })).payload
        : (await jwtVerify(token, keySet, options)).payload;
    } catch {
      throw new ApiError(401, "invalid_authorization", "The access token is invalid or has expired. Sign in again.");
    }
    if (payload.role !== "authenticated" || typeof payload.sub !== "string" || !UUID.test(payload.sub)) {
      throw new ApiError(401, "invalid_authorization", "The access token does not belong to a signed-in user.");
    }
    return { userId: payload.sub, claims: payload };
  };
}
