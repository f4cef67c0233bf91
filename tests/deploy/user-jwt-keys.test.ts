// User tokens as every kind of hosted project issues them: asymmetric keys injected as
// SUPABASE_JWKS in either shape, a key rotated in later that only the project's JWKS URL
// serves, and legacy HS256 tokens checked against DEVICE_LEGACY_JWT_SECRET. The JWKS URL
// is a local server that counts its requests (Supabase Auth cannot run here).
import { createServer } from "node:http";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserVerifier } from "../../functions/_shared/auth/user-jwt.ts";
import { loadConfig } from "../../functions/_shared/config.ts";
import { listenLocal, type LocalServer } from "../../scripts/stack/http-server.ts";
import { freePort } from "../../scripts/stack/ports.ts";

const USER = "2f1c6d4e-0000-4000-8000-000000000001";
const LEGACY_SECRET = "legacy-jwt-secret-with-at-least-32-characters";
const current = await generateKeyPair("ES256");
const rotated = await generateKeyPair("RS256");
const publicJwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: "sig" });
const currentJwk = await publicJwk(current.publicKey, "current", "ES256");
const rotatedJwk = await publicJwk(rotated.publicKey, "rotated", "RS256");

let auth: LocalServer;
let served: JWK[] = [];
let jwksRequests = 0;
let jwksStatus = 200;
beforeAll(async () => {
  const server = createServer((req, res) => {
    if (req.url === "/auth/v1/.well-known/jwks.json") {
      jwksRequests++;
      if (jwksStatus !== 200) return void res.writeHead(jwksStatus).end("upstream error");
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: served }));
    } else res.writeHead(404).end();
  });
  auth = await listenLocal(server, await freePort());
});
afterAll(() => auth.stop());

function token(key: CryptoKey | Uint8Array, header: { alg: string; kid?: string }) {
  return new SignJWT({ role: "authenticated" }).setProtectedHeader(header).setSubject(USER)
    .setIssuer(`${auth.url}/auth/v1`).setAudience("authenticated").setExpirationTime("5m").sign(key);
}
const bearer = (t: string) => new Request("http://x/devices/pair", { headers: { authorization: `Bearer ${t}` } });
const outcome = (verify: ReturnType<typeof createUserVerifier>, t: string) =>
  verify(bearer(t)).then((u) => u.userId, (e) => `${e.status} ${e.code}`);

describe("asymmetric keys", () => {
  it.each([
    ["{ keys: [...] }", JSON.stringify({ keys: [currentJwk] })],
    ["a bare [...]", JSON.stringify([currentJwk])],
  ])("accepts SUPABASE_JWKS injected as %s, without fetching the URL", async (_, jwks) => {
    served = [];
    jwksRequests = 0;
    const verify = createUserVerifier({ supabaseUrl: auth.url, jwks });
    expect(await outcome(verify, await token(current.privateKey, { alg: "ES256", kid: "current" }))).toBe(USER);
    expect(jwksRequests).toBe(0);
  });

  it("accepts a token signed with a rotated key that only the JWKS URL has, and caches the set", async () => {
    served = [currentJwk, rotatedJwk];
    jwksRequests = 0;
    const verify = createUserVerifier({ supabaseUrl: auth.url, jwks: JSON.stringify([currentJwk]) });
    const t = await token(rotated.privateKey, { alg: "RS256", kid: "rotated" });
    expect(await outcome(verify, t)).toBe(USER);
    expect(await outcome(verify, t)).toBe(USER);
    expect(jwksRequests).toBe(1);
  });

  it("refuses a kid the URL does not have either, fetching it at most once per cooldown", async () => {
    served = [currentJwk];
    jwksRequests = 0;
    const verify = createUserVerifier({ supabaseUrl: auth.url, jwks: JSON.stringify([currentJwk]), jwksRefreshCooldownMs: 1_000 });
    const stranger = await generateKeyPair("ES256");
    const forged = await token(stranger.privateKey, { alg: "ES256", kid: "made-up" });
    const results = await Promise.all(Array.from({ length: 25 }, () => outcome(verify, forged)));
    expect(new Set(results)).toEqual(new Set(["401 invalid_authorization"]));
    expect(jwksRequests).toBe(1);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await outcome(verify, forged)).toBe("401 invalid_authorization");
    expect(jwksRequests).toBe(2); // after the cooldown one more look, no more
  });

  it("refuses a known kid with a wrong signature locally, without asking the URL", async () => {
    jwksRequests = 0;
    const verify = createUserVerifier({ supabaseUrl: auth.url, jwks: JSON.stringify({ keys: [currentJwk] }) });
    const stranger = await generateKeyPair("ES256");
    expect(await outcome(verify, await token(stranger.privateKey, { alg: "ES256", kid: "current" })))
      .toBe("401 invalid_authorization");
    expect(jwksRequests).toBe(0);
  });

  it("uses the URL when SUPABASE_JWKS is absent or not a key set", async () => {
    served = [currentJwk];
    for (const jwks of [undefined, "not json", JSON.stringify({ keys: "nope" })]) {
      const verify = createUserVerifier({ supabaseUrl: auth.url, jwks });
      expect(await outcome(verify, await token(current.privateKey, { alg: "ES256", kid: "current" }))).toBe(USER);
    }
  });
});

describe("when the JWKS URL cannot be read", () => {
  it("answers 503 auth_unavailable, not 401 (signing in again would not help)", async () => {
    jwksStatus = 502;
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.join(" "));
    try {
      const verify = createUserVerifier({ supabaseUrl: auth.url, jwks: JSON.stringify([currentJwk]) });
      expect(await outcome(verify, await token(rotated.privateKey, { alg: "RS256", kid: "rotated" })))
        .toBe("503 auth_unavailable");
      // the injected keys still work meanwhile
      expect(await outcome(verify, await token(current.privateKey, { alg: "ES256", kid: "current" }))).toBe(USER);
    } finally {
      jwksStatus = 200;
      console.error = original;
    }
    expect(logged.join("\n")).toMatch(/JWKS URL could not be read/);
  });
});

describe("legacy HS256 tokens", () => {
  const env = {
    SUPABASE_URL: "", SUPABASE_DB_URL: "postgresql://x", SUPABASE_SERVICE_ROLE_KEY: "k", DEVICE_TOKEN_PEPPER: "p".repeat(32),
  };
  it("are accepted with the secret set as DEVICE_LEGACY_JWT_SECRET, refused without it", async () => {
    const config = loadConfig({ ...env, SUPABASE_URL: auth.url, DEVICE_LEGACY_JWT_SECRET: LEGACY_SECRET });
    const verify = createUserVerifier({ supabaseUrl: config.supabaseUrl, jwks: config.jwks, legacyJwtSecret: config.legacyJwtSecret });
    const hs = await token(new TextEncoder().encode(LEGACY_SECRET), { alg: "HS256" });
    expect(await outcome(verify, hs)).toBe(USER);
    const wrong = await token(new TextEncoder().encode("another-secret-of-at-least-32-characters"), { alg: "HS256" });
    expect(await outcome(verify, wrong)).toBe("401 invalid_authorization");
    const noSecret = createUserVerifier({ supabaseUrl: auth.url });
    expect(await outcome(noSecret, hs)).toBe("401 invalid_authorization");
  });
});
