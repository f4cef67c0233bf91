import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createUserVerifier } from "../../functions/_shared/auth/user-jwt.ts";
import { ApiError } from "../../functions/_shared/errors.ts";

const SUPABASE_URL = "https://abc.supabase.co";
const ISSUER = `${SUPABASE_URL}/auth/v1`;
const LEGACY_SECRET = "super-secret-jwt-token-with-at-least-32-characters";
const { publicKey, privateKey } = await generateKeyPair("ES256");
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] });
const other = await generateKeyPair("ES256");

function token(claims: Record<string, unknown> = {}, opts: { key?: CryptoKey | Uint8Array; alg?: string; iss?: string; aud?: string; exp?: string } = {}) {
  return new SignJWT({ role: "authenticated", ...claims })
    .setProtectedHeader({ alg: opts.alg ?? "ES256", kid: "k1" })
    .setSubject("2f1c6d4e-0000-4000-8000-000000000001")
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? "authenticated")
    .setExpirationTime(opts.exp ?? "5m")
    .sign(opts.key ?? privateKey);
}

const verify = createUserVerifier({ supabaseUrl: SUPABASE_URL, jwks, legacyJwtSecret: LEGACY_SECRET });
const request = (t: string) => new Request("http://x/devices/pair", { headers: { authorization: `Bearer ${t}` } });
async function refusal(t: string) {
  const err = await verify(request(t)).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  return `${err.status} ${err.code}`;
}

describe("user JWT verification", () => {
  it("accepts a Supabase access token signed by a key of the project's JWKS", async () => {
    expect((await verify(request(await token()))).userId).toBe("2f1c6d4e-0000-4000-8000-000000000001");
  });
  it("accepts a legacy HS256 token when the secret is configured", async () => {
    const t = await token({}, { alg: "HS256", key: new TextEncoder().encode(LEGACY_SECRET) });
    expect((await verify(request(t))).userId).toBe("2f1c6d4e-0000-4000-8000-000000000001");
    const noLegacy = createUserVerifier({ supabaseUrl: SUPABASE_URL, jwks });
    expect(await noLegacy(request(t)).catch((e) => e.code)).toBe("invalid_authorization");
  });
  it("refuses other keys, issuers, audiences, expired tokens, anon tokens and missing headers", async () => {
    expect(await refusal(await token({}, { key: other.privateKey }))).toBe("401 invalid_authorization");
    expect(await refusal(await token({}, { iss: "https://evil.example/auth/v1" }))).toBe("401 invalid_authorization");
    expect(await refusal(await token({}, { aud: "anon" }))).toBe("401 invalid_authorization");
    expect(await refusal(await token({}, { exp: "-1m" }))).toBe("401 invalid_authorization");
    expect(await refusal(await token({ role: "anon" }))).toBe("401 invalid_authorization");
    expect(await refusal(await token({}, { alg: "HS256", key: new TextEncoder().encode("x".repeat(40)) }))).toBe("401 invalid_authorization");
    expect(await refusal("garbage")).toBe("401 invalid_authorization");
    const err = await verify(new Request("http://x/")).catch((e) => e);
    expect(err.code).toBe("missing_authorization");
  });
});
