// Local stand-in for Supabase Auth's token side: an ES256 key pair, its JWKS, a test
// user in auth.users, and access tokens shaped like the ones Supabase Auth issues.
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";

export interface LocalAuth {
  jwks: { keys: JWK[] };
  privateJwk: JWK;
  issuer: string;
}

export async function createLocalAuth(supabaseUrl: string): Promise<LocalAuth> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = crypto.randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "ES256" };
  return { jwks: { keys: [publicJwk] }, privateJwk, issuer: `${supabaseUrl}/auth/v1` };
}

export async function mintAccessToken(
  auth: Pick<LocalAuth, "privateJwk" | "issuer">,
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
