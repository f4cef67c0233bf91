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

/**
 * Stand-in for `POST /auth/v1/token?grant_type=password`: users registered here with a password
 * get an access token. Only a SHA-256 of each password is kept; comparisons are constant-time.
 */
export interface PasswordSignIn {
  setPassword(user: { id: string; email: string }, password: string): void;
  /** null when the email is unknown or the password is wrong. */
  signIn(email: string, password: string): Promise<PasswordGrantResponse | null>;
}

export function createPasswordSignIn(auth: Pick<LocalAuth, "privateJwk" | "issuer">, ttlSeconds = 3600): PasswordSignIn {
  const users = new Map<string, { id: string; email: string; passwordHash: Buffer }>();
  const hash = (password: string) => createHash("sha256").update(password, "utf8").digest();
  const unknownUserHash = hash(randomBytes(32).toString("hex"));
  return {
    setPassword(user, password) {
      users.set(user.email.toLowerCase(), { ...user, passwordHash: hash(password) });
    },
    async signIn(email, password) {
      const user = users.get(email.toLowerCase());
      // Compare even for an unknown email, so timing does not tell which emails exist.
      const matches = timingSafeEqual(hash(password), user?.passwordHash ?? unknownUserHash);
      if (!user || !matches) return null;
      const accessToken = await mintAccessToken(auth, user, ttlSeconds);
      return {
        access_token: accessToken,
        token_type: "bearer",
        expires_in: ttlSeconds,
        expires_at: Math.floor(Date.now() / 1000) + ttlSeconds,
        refresh_token: randomBytes(16).toString("base64url"),
        user: { id: user.id, aud: "authenticated", role: "authenticated", email: user.email },
      };
    },
  };
}
