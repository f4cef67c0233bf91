import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import QRCode from "qrcode";
import { beforeAll, describe, expect, it } from "vitest";

import { expirePairingCode, sql, stack } from "../support/stack.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { buildOnce, runCli, tempDir } from "./harness.ts";

const EMAIL = stack.user.email;
let home: string;
const env = () => ({ LIFELOG_CONFIG_DIR: home });

async function login() {
  const r = await runCli(["login", "--url", stack.supabase_url, "--email", EMAIL, "--password-stdin"], { env: env(), stdin: stack.user_password });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

beforeAll(async () => {
  await buildOnce();
});

describe("help and usage", () => {
  it("lists every command and the exit codes", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const name of ["login", "logout", "pair", "ca", "render", "nvs", "flash", "doctor"]) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(r.stdout).toContain("  3  the device config file is invalid");
  });

  it("has --help on every command", async () => {
    for (const name of ["login", "logout", "pair", "ca", "render", "nvs", "flash", "doctor"]) {
      const r = await runCli([name, "--help"]);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(`lifelog-devices ${name}:`);
      expect(r.stdout, name).toContain("Exit codes:");
    }
  });

  it("refuses unknown commands and flags with exit 2", async () => {
    const unknown = await runCli(["flsh"]);
    expect(unknown).toMatchObject({ code: 2, stdout: "" });
    expect(unknown.stderr).toBe('error: unknown command "flsh"; run `lifelog-devices --help` for the list\n');
    const flag = await runCli(["render", "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("error: Unknown option '--bogus'; run `lifelog-devices render --help`\n");
  });
});

describe("login", () => {
  beforeAll(async () => {
    home = await tempDir();
  });

  it("signs in with email and password and stores tokens, never the password, with mode 0600", async () => {
    const r = await login();
    expect(r.stdout).toContain(`Signed in to ${stack.supabase_url} as ${EMAIL}.\n`);
    const path = join(home, "credentials.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(path, "utf8"));
    expect(saved).toMatchObject({ supabase_url: stack.supabase_url, email: EMAIL });
    expect(saved.access_token.split(".")).toHaveLength(3);
    const everything = r.stdout + r.stderr;
    expect(everything).not.toContain(stack.user_password);
    expect(everything).not.toContain(saved.access_token);
    expect(await readFile(path, "utf8")).not.toContain(stack.user_password);
  });

  it("prints only non-secret fields with --json", async () => {
    const r = await runCli(["login", "--url", stack.supabase_url, "--email", EMAIL, "--password-stdin", "--json"], { env: env(), stdin: stack.user_password });
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout)).sort()).toEqual(["credentials_path", "email", "expires_at", "supabase_url"]);
  });

  it("refuses a wrong password with exit 5", async () => {
    const r = await runCli(["login", "--url", stack.supabase_url, "--email", EMAIL, "--password-stdin"], { env: env(), stdin: "not-the-password" });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("error: sign-in refused: the email or password is wrong\n");
    expect(r.stderr).not.toContain("not-the-password");
  });

  it("says when Supabase cannot be reached, with exit 4", async () => {
    const port = await freePort();
    const r = await runCli(["login", "--url", `http://127.0.0.1:${port}`, "--email", EMAIL, "--password-stdin"], { env: { LIFELOG_CONFIG_DIR: await tempDir() }, stdin: "x" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`error: cannot reach http://127.0.0.1:${port}: the connection was refused (nothing is listening there)\n`);
  });

  it("accepts a pasted access token and refuses an expired one", async () => {
    const dir = await tempDir();
    const ok = await runCli(["login", "--url", stack.supabase_url, "--token-stdin"], { env: { LIFELOG_CONFIG_DIR: dir }, stdin: stack.user_access_token + "\n" });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`Signed in to ${stack.supabase_url} as ${EMAIL}.`);
    const expired = ["e30", Buffer.from(JSON.stringify({ exp: 1_000_000_000, sub: "x" })).toString("base64url"), "sig"].join(".");
    const r = await runCli(["login", "--url", stack.supabase_url, "--token", expired], { env: { LIFELOG_CONFIG_DIR: dir } });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe("error: that access token expired at 2001-09-09T01:46:40.000Z; get a fresh one\n");
  });

  it("is served by the local stack's stand-in for Supabase Auth's password grant, with GoTrue's error shape", async () => {
    const grant = (password: string) =>
      fetch(`${stack.supabase_url}/auth/v1/token?grant_type=password`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: EMAIL, password }),
      });
    const wrong = await grant("nope");
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: "invalid_grant", error_description: "Invalid login credentials" });
    const ok = await grant(stack.user_password);
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({ token_type: "bearer", expires_in: 3600, user: { id: stack.user.id, email: EMAIL } });
    expect(typeof body.refresh_token).toBe("string");
  });

  it("logout forgets the session", async () => {
    const dir = await tempDir();
    await runCli(["login", "--url", stack.supabase_url, "--token-stdin"], { env: { LIFELOG_CONFIG_DIR: dir }, stdin: stack.user_access_token });
    expect((await runCli(["logout"], { env: { LIFELOG_CONFIG_DIR: dir } })).stdout).toBe("Signed out.\n");
    expect(existsSync(join(dir, "credentials.json"))).toBe(false);
    expect((await runCli(["pair"], { env: { LIFELOG_CONFIG_DIR: dir } })).code).toBe(5);
  });

  it("needs --url and exactly one way of signing in (exit 2)", async () => {
    expect((await runCli(["login", "--email", EMAIL])).stderr).toBe("error: --url is required (your Supabase project URL), or set SUPABASE_URL\n");
    const both = await runCli(["login", "--url", stack.supabase_url]);
    expect(both).toMatchObject({ code: 2, stderr: "error: give either --email or --token/--token-stdin\n" });
  });
});

describe("pair", () => {
  beforeAll(async () => {
    home = await tempDir();
    await login(); // every test here but the next two runs signed in
  });

  it("requires a session (exit 5)", async () => {
    const r = await runCli(["pair"], { env: { LIFELOG_CONFIG_DIR: await tempDir() } });
    expect(r).toMatchObject({ code: 5, stderr: "error: you are not signed in; run `lifelog-devices login` first\n" });
  });

  it("treats a damaged credentials file as signed out, not as a crash (exit 5)", async () => {
    const damaged = await tempDir();
    await writeFile(join(damaged, "credentials.json"), "{ not json");
    const r = await runCli(["pair"], { env: { LIFELOG_CONFIG_DIR: damaged } });
    expect(r).toMatchObject({ code: 5, stderr: "error: you are not signed in; run `lifelog-devices login` first\n" });
  });

  it("shows the code as text and QR, and creates the device for the signed-in user", async () => {
    const r = await runCli(["pair", "--name", "kitchen"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const code = /^Pairing code: ([A-Z]{4}-[A-Z]{4})$/m.exec(r.stdout)?.[1];
    expect(code).toBeDefined();
    const deviceId = /^Paired a new camera "kitchen" \(device ([0-9a-f-]{36})\)\.$/m.exec(r.stdout)?.[1];
    expect(r.stdout).toMatch(/^It expires at \S+Z \(in 10 minutes\): the camera must go online before then\.$/m);
    expect(r.stdout).toContain(await QRCode.toString(code!, { type: "terminal", small: true })); // the terminal QR code
    const [device] = await sql`select user_id, name from public.devices where id = ${deviceId!}`;
    expect(device).toEqual({ user_id: stack.user.id, name: "kitchen" });
  });

  it("prints exactly device_id, pairing_code and expires_at with --json", async () => {
    const r = await runCli(["pair", "--json"], { env: env() });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(Object.keys(body).sort()).toEqual(["device_id", "expires_at", "pairing_code"]);
    expect(body.pairing_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
  });

  it("writes the code into a new config and updates an existing one, keeping its comments", async () => {
    const dir = await tempDir();
    const config = join(dir, "camera.yaml");
    const created = await runCli(["pair", "--write-config", config, "--json"], { env: env() });
    const first = JSON.parse(created.stdout);
    const text = await readFile(config, "utf8");
    expect(text).toContain(`api_base_url: ${stack.api_base}\npairing_code: ${first.pairing_code}\n`);
    expect(existsSync(`${config}.pairing.json`)).toBe(true);

    await writeFile(config, `# my camera\napi_base_url: http://192.168.1.20:54321/functions/v1 # LAN address\npairing_code: OLD\n`);
    const updated = await runCli(["pair", "--write-config", config], { env: env() });
    const second = /^Pairing code: (\S+)$/m.exec(updated.stdout)![1];
    expect(updated.stdout).toContain(`Updated ${config} with the pairing code.\nNext: lifelog-devices render ${config} --out build\n`);
    expect(await readFile(config, "utf8")).toBe(
      `# my camera\napi_base_url: http://192.168.1.20:54321/functions/v1 # LAN address\npairing_code: ${second}\n`,
    );

    // An empty file (say, made with `touch`) is a new config: it gets the API URL too.
    const empty = join(dir, "empty.yaml");
    await writeFile(empty, "\n");
    const filled = await runCli(["pair", "--write-config", empty, "--json"], { env: env() });
    expect(await readFile(empty, "utf8")).toContain(`api_base_url: ${stack.api_base}\npairing_code: ${JSON.parse(filled.stdout).pairing_code}\n`);
  });

  it("reports an expired pairing code (pair --status, render, doctor) as the server sees it", async () => {
    const dir = await tempDir();
    const config = join(dir, "camera.yaml");
    const paired = JSON.parse((await runCli(["pair", "--write-config", config, "--json"], { env: env() })).stdout);
    const fresh = await runCli(["pair", "--status", config], { env: env() });
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/^The pairing code is valid until \S+ \(10 minutes left\)\.$/m);

    // Expire it in the database, then let the record `pair` saved catch up with that clock:
    // the CLI never asks the server (that would use the code up or count as a wrong guess).
    const expiresAt = await expirePairingCode(paired.device_id);
    const recordPath = `${config}.pairing.json`;
    const record = JSON.parse(await readFile(recordPath, "utf8"));
    await writeFile(recordPath, JSON.stringify({ ...record, expires_at: expiresAt.toISOString() }));
    const expiredAt = expiresAt.toISOString();
    const message = `the pairing code has expired; run \`lifelog-devices pair\` again (it expired at ${expiredAt})`;

    const status = await runCli(["pair", "--status", config], { env: env() });
    expect(status).toMatchObject({ code: 1, stderr: `error: ${message}\n` });
    const render = await runCli(["render", config, "--out", join(dir, "out")], { env: env() });
    expect(render.code).toBe(1);
    expect(render.stderr).toBe(`error: ${message}\n  or remove pairing_code from ${config} and type a fresh code into the camera's setup portal\n`);
    expect(existsSync(join(dir, "out"))).toBe(false);
    const doctor = await runCli(["doctor", config], { env: env() });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`  ✗ pairing code: ${message}\n`);

    // The server agrees: the code is expired.
    const res = await fetch(`${stack.api_base}/devices/activate`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pairing_code: paired.pairing_code }),
    });
    expect(res.status).toBe(410);
    expect((await res.json()).error.code).toBe("pairing_code_expired");
  });

  it("says when the API is unreachable (exit 4) or refuses the session (exit 5)", async () => {
    const port = await freePort();
    const down = await runCli(["pair", "--api-base", `http://127.0.0.1:${port}/functions/v1`], { env: env() });
    expect(down.code).toBe(4);
    expect(down.stderr).toBe(`Requesting a pairing code…\nerror: cannot reach http://127.0.0.1:${port}: the connection was refused (nothing is listening there)\n`);
    const forged = ["eyJhbGciOiJFUzI1NiJ9", Buffer.from(JSON.stringify({ sub: stack.user.id, exp: 4_000_000_000 })).toString("base64url"), "AAAA"].join(".");
    const refused = await runCli(["pair", "--token", forged, "--url", stack.supabase_url], { env: env() });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("error: the API refused your session (invalid_authorization); run `lifelog-devices login` again\n");
  });
});
