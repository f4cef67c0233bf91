// Local stand-in for Supabase Auth's token side: an ES256 key pair, its JWKS, a test
// user in auth.users, access tokens shaped like the ones Supabase Auth issues, and the
// password grant for users given a password.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";

export interface LocalAuth {
  jwks: { keys: JWK[] };
  privateJwk: JWK;
  issuer: string;
}

/** Signing keys as the token command and tests need them (no JWKS). */
export type AuthKey = Pick<LocalAuth, "privateJwk" | "issuer">;

export async function createLocalAuth(supabaseUrl: string): Promise<LocalAuth> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = crypto.randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "ES256" };
  return { jwks: { keys: [publicJwk] }, privateJwk, issuer: `${supabaseUrl}/auth/v1` };
}

export async function mintAccessToken(
  auth: AuthKey,
  user: { id: string; email: string },
  ttlSeconds = 3600,
): Promise<string> {
  const key = await importJWK(auth.privateJwk, "ES256");
  return new SignJWT({ email: user.email, role: "authenticated", aal: "aal1", session_id: crypto.randomUUID() })
    .setProtectedHeader({ alg: "ES256", kid: auth.privateJwk.kid, typ: "JWT" })
    .setIssuer(auth.issuer)
    .setAudience("authenticated")
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/** A new row in auth.users and an access token for it, as if the user had signed up. */
export async function createLocalUser(
  sql: (strings: TemplateStringsArray, ...values: string[]) => PromiseLike<unknown>,
  auth: AuthKey,
  email: string,
): Promise<{ user: { id: string; email: string }; accessToken: string }> {
  const user = { id: crypto.randomUUID(), email };
  await sql`insert into auth.users (id, email) values (${user.id}, ${user.email})`;
  return { user, accessToken: await mintAccessToken(auth, user) };
}

/** Supabase Auth's answer to a password grant (the fields a client reads). */
export interface PasswordGrantResponse {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: { id: string; aud: "authenticated"; role: "authenticated"; email: string };
}

/** GoTrue's refusal of a token grant: 400 with an OAuth error body (supabase/auth internal/api/errors.go oauthError). */
export interface GrantRefusal {
  error: "invalid_grant";
  error_description: string;
}

/**
 * Stand-in for Supabase Auth's token endpoint, `POST /auth/v1/token?grant_type=password` and
 * `?grant_type=refresh_token`: users registered here with a password get an access token and a
 * refresh token. Only a SHA-256 of each password is kept; comparisons are constant-time.
 */
export interface PasswordSignIn {
  setPassword(user: { id: string; email: string }, password: string): void;
  /** null when the email is unknown or the password is wrong. */
  signIn(email: string, password: string): Promise<PasswordGrantResponse | null>;
  /** A new access token for a refresh token, rotating it as GoTrue does. */
  refresh(refreshToken: string): Promise<PasswordGrantResponse | GrantRefusal>;
}

// Refresh tokens as GoTrue keeps them (supabase/auth internal/api/token_refresh.go): single
// use; using one revokes it and issues a child. A revoked token presented again gets the
// session's active token back if it is that token's parent (the client lost the answer) or
// if it is within the reuse interval; otherwise the whole session is revoked and the answer
// is "Invalid Refresh Token: Already Used". Reuse interval 10 s and rotation on: the defaults
// of the Supabase CLI's config.toml template (refresh_token_reuse_interval = 10).
export const REFRESH_TOKEN_REUSE_INTERVAL_MS = 10_000;

interface RefreshToken {
  userId: string;
  sessionId: string;
  parent?: string;
  revoked: boolean;
  updatedAt: number;
}

export function createPasswordSignIn(auth: Pick<LocalAuth, "privateJwk" | "issuer">, ttlSeconds = 3600): PasswordSignIn {
  const users = new Map<string, { id: string; email: string; passwordHash: Buffer }>();
  const usersById = new Map<string, { id: string; email: string }>();
  const refreshTokens = new Map<string, RefreshToken>();
  const activeToken = new Map<string, string>(); // session id -> its one unrevoked refresh token
  const hash = (password: string) => createHash("sha256").update(password, "utf8").digest();
  const unknownUserHash = hash(randomBytes(32).toString("hex"));
  const refusal = (why: string): GrantRefusal => ({ error: "invalid_grant", error_description: `Invalid Refresh Token: ${why}` });

  function newRefreshToken(userId: string, sessionId: string, parent?: string): string {
    const token = randomBytes(9).toString("base64url"); // GoTrue's are 12 characters
    refreshTokens.set(token, { userId, sessionId, parent, revoked: false, updatedAt: Date.now() });
    activeToken.set(sessionId, token);
    return token;
  }

  async function grant(user: { id: string; email: string }, refreshToken: string): Promise<PasswordGrantResponse> {
    return {
      access_token: await mintAccessToken(auth, user, ttlSeconds),
      token_type: "bearer",
      expires_in: ttlSeconds,
      expires_at: Math.floor(Date.now() / 1000) + ttlSeconds,
      refresh_token: refreshToken,
      user: { id: user.id, aud: "authenticated", role: "authenticated", email: user.email },
    };
  }

  return {
    setPassword(user, password) {
      users.set(user.email.toLowerCase(), { ...user, passwordHash: hash(password) });
      usersById.set(user.id, user);
    },
    async signIn(email, password) {
      const user = users.get(email.toLowerCase());
      // Compare even for an unknown email, so timing does not tell which emails exist.
      const matches = timingSafeEqual(hash(password), user?.passwordHash ?? unknownUserHash);
      if (!user || !matches) return null;
      return grant(user, newRefreshToken(user.id, randomBytes(16).toString("hex")));
    },
    async refresh(presented) {
      const token = refreshTokens.get(presented);
      const user = token && usersById.get(token.userId);
      if (!token || !user) return refusal("Refresh Token Not Found");
      if (!token.revoked) {
        token.revoked = true;
        token.updatedAt = Date.now();
        return grant(user, newRefreshToken(user.id, token.sessionId, presented));
      }
      const active = activeToken.get(token.sessionId);
      if (active && refreshTokens.get(active)?.parent === presented) return grant(user, active);
      if (Date.now() > token.updatedAt + REFRESH_TOKEN_REUSE_INTERVAL_MS) {
        for (const t of refreshTokens.values()) if (t.sessionId === token.sessionId) t.revoked = true;
        activeToken.delete(token.sessionId);
        return refusal("Already Used");
      }
      if (active) refreshTokens.get(active)!.revoked = true;
      return grant(user, newRefreshToken(user.id, token.sessionId, presented));
    },
  };
}
