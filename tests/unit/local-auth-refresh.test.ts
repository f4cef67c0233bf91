// The local Auth's refresh-token grant behaves as GoTrue's (supabase/auth
// internal/api/token_refresh.go): single use with rotation, the parent of the active token
// answered with that token (a lost answer), a 10 s reuse interval, and reuse after it
// revoking the whole session.
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLocalAuth, createPasswordSignIn, type PasswordGrantResponse, REFRESH_TOKEN_REUSE_INTERVAL_MS } from "../../scripts/stack/auth.ts";

async function signedIn(ttl = 60) {
  const auth = await createLocalAuth("http://127.0.0.1:1");
  const signIn = createPasswordSignIn(auth, ttl);
  const user = { id: crypto.randomUUID(), email: "a@b.c" };
  signIn.setPassword(user, "pw");
  const grant = (await signIn.signIn("a@b.c", "pw"))!;
  return { signIn, user, grant };
}

const ok = (r: unknown) => r as PasswordGrantResponse;

afterEach(() => {
  vi.useRealTimers();
});

describe("local Auth refresh_token grant", () => {
  it("rotates: each use gives a new refresh token and a fresh access token", async () => {
    const { signIn, user, grant } = await signedIn(120);
    const next = ok(await signIn.refresh(grant.refresh_token));
    expect(next.refresh_token).not.toBe(grant.refresh_token);
    expect(next).toMatchObject({ token_type: "bearer", expires_in: 120, user: { id: user.id, email: "a@b.c" } });
    expect(decodeJwt(next.access_token)).toMatchObject({ sub: user.id, role: "authenticated", aud: "authenticated" });
    expect(next.expires_at).toBe(Math.floor(Date.now() / 1000) + 120);
  });

  it("answers the parent of the active token with that token (the client lost the answer)", async () => {
    const { signIn, grant } = await signedIn();
    const child = ok(await signIn.refresh(grant.refresh_token));
    const again = ok(await signIn.refresh(grant.refresh_token));
    expect(again.refresh_token).toBe(child.refresh_token);
  });

  it("refuses an older used token after the reuse interval and revokes the whole session", async () => {
    vi.useFakeTimers({ now: new Date("2026-12-01T12:00:00Z"), toFake: ["Date"] });
    const { signIn, grant } = await signedIn();
    const child = ok(await signIn.refresh(grant.refresh_token));
    const grandchild = ok(await signIn.refresh(child.refresh_token));
    vi.setSystemTime(Date.now() + REFRESH_TOKEN_REUSE_INTERVAL_MS + 1);
    expect(await signIn.refresh(grant.refresh_token)).toEqual({ error: "invalid_grant", error_description: "Invalid Refresh Token: Already Used" });
    // the session is gone: even its newest token no longer works
    expect(await signIn.refresh(grandchild.refresh_token)).toMatchObject({ error: "invalid_grant" });
  });

  it("tolerates reuse of an older token within the reuse interval", async () => {
    vi.useFakeTimers({ now: new Date("2026-12-01T12:00:00Z"), toFake: ["Date"] });
    const { signIn, grant } = await signedIn();
    const child = ok(await signIn.refresh(grant.refresh_token));
    ok(await signIn.refresh(child.refresh_token));
    vi.setSystemTime(Date.now() + REFRESH_TOKEN_REUSE_INTERVAL_MS - 1000);
    expect(ok(await signIn.refresh(grant.refresh_token)).access_token).toBeTruthy();
  });

  it("does not know tokens it never issued", async () => {
    const { signIn } = await signedIn();
    expect(await signIn.refresh("made-up")).toEqual({ error: "invalid_grant", error_description: "Invalid Refresh Token: Refresh Token Not Found" });
  });
});
