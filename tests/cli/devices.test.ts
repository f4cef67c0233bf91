// The device lifecycle commands (devices, rename, pause, resume, settings, revoke) against the
// local stack, and a session that outlives its access token: the CLI renews it through the
// local Auth's refresh-token grant (single-use, rotating refresh tokens as GoTrue issues them).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createPasswordSignIn } from "../../scripts/stack/auth.ts";
import { startGateway } from "../../scripts/stack/gateway.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { post, sql, stack } from "../support/stack.ts";
import { heartbeat, listDevices } from "../support/lifecycle.ts";
import { buildOnce, runCli, tempDir } from "./harness.ts";

const NEW_COMMANDS = ["devices", "rename", "pause", "resume", "settings", "revoke"];

let home: string;
const env = () => ({ LIFELOG_CONFIG_DIR: home });

async function activatedCamera(name: string) {
  const paired = await post<{ device_id: string; pairing_code: string }>("pair", { name }, { authorization: `Bearer ${stack.user_access_token}` });
  const activated = await post<{ device_id: string; device_token: string }>("activate", { pairing_code: paired.body.pairing_code });
  return { id: activated.body.device_id, token: activated.body.device_token };
}

beforeAll(async () => {
  await buildOnce();
  home = await tempDir();
  const r = await runCli(["login", "--url", stack.supabase_url, "--email", stack.user.email, "--password-stdin"], { env: env(), stdin: stack.user_password });
  expect(r.code, r.stderr).toBe(0);
});

describe("help", () => {
  it("lists the new commands, each with examples", async () => {
    const all = await runCli(["--help"]);
    for (const name of NEW_COMMANDS) expect(all.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    for (const name of NEW_COMMANDS) {
      const r = await runCli([name, "--help"]);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(`lifelog-devices ${name}:`);
      expect(r.stdout, name).toContain("Examples:");
    }
  });
});

describe("device commands", () => {
  it("lists, renames, pauses, resumes, sets the interval and revokes a camera", async () => {
    const cam = await activatedCamera(`cli-cam-${Date.now()}`);
    expect((await heartbeat(cam.token)).status).toBe(200);

    const listed = await runCli(["devices", "--json"], { env: env() });
    expect(listed.code, listed.stderr).toBe(0);
    const mine = (JSON.parse(listed.stdout) as Array<{ id: string; items: unknown }>).find((d) => d.id === cam.id);
    expect(mine).toMatchObject({ items: { today: 0, total: 0 } });
    expect(listed.stdout).not.toMatch(/devtok_|hash/);
    const table = await runCli(["devices"], { env: env() });
    expect(table.stdout).toMatch(/^NAME +ID +STATE +LAST SEEN +PHOTOS TODAY +TOTAL +QUEUED +INTERVAL +FIRMWARE$/m);
    expect(table.stdout).toMatch(new RegExp(`^cli-cam-\\d+ +${cam.id.slice(0, 8)} +active +\\d+s ago +0 +0 +4 +built-in +0\\.3\\.0$`, "m"));

    const renamed = await runCli(["rename", cam.id.slice(0, 8), `porch ${cam.id.slice(0, 4)}`], { env: env() });
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(renamed.stdout).toContain(`to "porch ${cam.id.slice(0, 4)}"`);

    const paused = await runCli(["pause", `porch ${cam.id.slice(0, 4)}`], { env: env() });
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain("Paused");
    expect((await heartbeat(cam.token)).body.settings).toEqual({ paused: true, capture_interval_s: null });
    expect((await runCli(["pause", cam.id], { env: env() })).stdout).toContain("was already paused");

    const interval = await runCli(["settings", cam.id, "--interval", "45", "--resume", "--json"], { env: env() });
    expect(interval.code, interval.stderr).toBe(0);
    expect(JSON.parse(interval.stdout).settings).toMatchObject({ paused: false, capture_interval_s: 45 });
    expect((await heartbeat(cam.token)).body.settings).toEqual({ paused: false, capture_interval_s: 45 });
    const shown = await runCli(["settings", cam.id], { env: env() });
    expect(shown.stdout).toContain("capturing, every 45 s");
    expect((await runCli(["settings", cam.id, "--interval", "built-in"], { env: env() })).stdout).toContain("at its built-in interval");

    const unconfirmed = await runCli(["revoke", cam.id], { env: env() });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("is permanent (it must be paired again); repeat with --yes");
    expect((await heartbeat(cam.token)).status).toBe(200);
    const revoked = await runCli(["revoke", cam.id, "--yes"], { env: env() });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain("its next request will be refused");
    expect((await heartbeat(cam.token)).body).toMatchObject({ error: { code: "token_revoked" } });
    expect((await runCli(["revoke", cam.id, "--yes"], { env: env() })).stdout).toContain("was already revoked");
    const late = await runCli(["resume", cam.id], { env: env() });
    expect(late.code).toBe(1);
    expect(late.stderr).toContain("is revoked; its settings can no longer change");
  });

  it("says clearly what is wrong", async () => {
    const cases: Array<[string[], number, string]> = [
      [["rename", "no-such-camera", "x"], 1, 'error: no device "no-such-camera" in your account; `lifelog-devices devices` lists them'],
      [["settings", "x", "--interval", "4"], 2, 'error: --interval must be a whole number of seconds from 5 to 3600, or "built-in"; got "4"'],
      [["settings", "x", "--pause", "--resume"], 2, "error: give --pause or --resume, not both"],
      [["rename", "only-one-argument"], 2, "error: rename needs the device and the new name"],
      [["pause"], 2, "error: pause needs one device"],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args, { env: env() });
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.stderr, args.join(" ")).toContain(message);
    }
    const signedOut = await runCli(["devices"], { env: { LIFELOG_CONFIG_DIR: await tempDir() } });
    expect(signedOut.code).toBe(5);
    expect(signedOut.stderr).toBe("error: you are not signed in; run `lifelog-devices login` first\n");
  });
});

describe("a session older than its access token", () => {
  const TTL_SECONDS = 2;
  let auth: Awaited<ReturnType<typeof startGateway>>;
  let authUrl: string;
  let refreshHome: string;
  const refreshEnv = () => ({ LIFELOG_CONFIG_DIR: refreshHome });
  const credentials = async () => JSON.parse(await readFile(join(refreshHome, "credentials.json"), "utf8"));

  beforeAll(async () => {
    // The local Auth with a 2-second access token life, signing for the stack's issuer so the
    // devices function accepts its tokens. The API itself is the stack's (--api-base).
    const signIn = createPasswordSignIn(stack.authKey, TTL_SECONDS);
    signIn.setPassword(stack.user, stack.user_password);
    auth = await startGateway({ port: await freePort(), functionUrl: "http://127.0.0.1:9", jwks: { keys: [] }, passwordSignIn: signIn });
    authUrl = auth.url.replace(/\/+$/, "");
    refreshHome = await tempDir();
  });
  afterAll(async () => {
    await auth?.stop();
  });

  it("is renewed with the refresh token, which is single use", async () => {
    const login = await runCli(["login", "--url", authUrl, "--email", stack.user.email, "--password-stdin"], { env: refreshEnv(), stdin: stack.user_password });
    expect(login.code, login.stderr).toBe(0);
    const first = await credentials();
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500)); // the access token has expired
    const direct = await fetch(`${stack.api_base}/devices`, { headers: { authorization: `Bearer ${first.access_token}` } });
    expect(direct.status).toBe(401); // …so only a renewed one can work

    const listed = await runCli(["devices", "--json", "--api-base", stack.api_base], { env: refreshEnv() });
    expect(listed.code, listed.stderr).toBe(0);
    const expected = (await listDevices(stack.user_access_token)).body.devices.map((d) => d.id);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((d) => d.id)).toEqual(expected);
    const second = await credentials();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(new Date(second.expires_at).getTime()).toBeGreaterThan(Date.now());
    expect(listed.stdout + listed.stderr).not.toContain(second.refresh_token);

    // Again after the new token expired: renewed once more with the new refresh token.
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
    const again = await runCli(["devices", "--api-base", stack.api_base], { env: refreshEnv() });
    expect(again.code, again.stderr).toBe(0);
    expect((await credentials()).refresh_token).not.toBe(second.refresh_token);

    // pair, which before this change read the saved token as it was, renews it too.
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
    const paired = await runCli(["pair", "--name", "after-expiry", "--api-base", stack.api_base], { env: refreshEnv() });
    expect(paired.code, paired.stderr).toBe(0);
    expect(paired.stdout).toMatch(/Pairing code: [A-Z]{4}-[A-Z]{4}/);
  });

  it("says so in words when the session cannot be renewed", async () => {
    const login = await runCli(["login", "--url", authUrl, "--email", stack.user.email, "--password-stdin"], { env: refreshEnv(), stdin: stack.user_password });
    expect(login.code).toBe(0);
    const saved = await credentials();
    await writeFile(join(refreshHome, "credentials.json"), JSON.stringify({ ...saved, refresh_token: "not-a-real-token" }));
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
    const r = await runCli(["devices", "--api-base", stack.api_base], { env: refreshEnv() });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('error: your session has expired and could not be renewed: Supabase Auth says "Invalid Refresh Token: Refresh Token Not Found"; run `lifelog-devices login` again\n');

    await runCli(["login", "--url", authUrl, "--email", stack.user.email, "--password-stdin"], { env: refreshEnv(), stdin: stack.user_password });
    const unreachable = { ...(await credentials()), supabase_url: `http://127.0.0.1:${await freePort()}`, expires_at: new Date(Date.now() - 1000).toISOString() };
    await writeFile(join(refreshHome, "credentials.json"), JSON.stringify(unreachable));
    const offline = await runCli(["devices", "--api-base", stack.api_base], { env: refreshEnv() });
    expect(offline.code).toBe(4);
    expect(offline.stderr).toMatch(/^error: your session needs renewing but http:\/\/127\.0\.0\.1:\d+ cannot be reached: the connection was refused/);
    expect(JSON.parse(await readFile(join(refreshHome, "credentials.json"), "utf8")).refresh_token).toBe(unreachable.refresh_token); // kept
  });
});
