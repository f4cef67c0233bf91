// Access tokens shaped like Supabase Auth's, with any claim changed: for refusal tests.
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { stack } from "./stack.ts";

const stranger = await generateKeyPair("ES256");

export async function forgeUserJwt(
  opts: { sub?: string; exp?: string | null; role?: string; aud?: string; iss?: string; foreignKey?: boolean } = {},
): Promise<string> {
  const key = opts.foreignKey ? stranger.privateKey : await importJWK(stack.authKey.privateJwk, "ES256");
  let jwt = new SignJWT({ role: opts.role ?? "authenticated" })
    .setProtectedHeader({ alg: "ES256", kid: stack.authKey.privateJwk.kid, typ: "JWT" })
    .setIssuer(opts.iss ?? stack.authKey.issuer)
    .setAudience(opts.aud ?? "authenticated")
    .setSubject(opts.sub ?? stack.user.id)
    .setIssuedAt();
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? "5m");
  return jwt.sign(key);
}
