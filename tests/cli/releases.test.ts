// The firmware release commands against the local stack: keygen writes a 0600 key that
// never leaves the machine, release signs and uploads an image and creates the release,
// releases shows the rollout's progress, halt / resume-release / rollout change it.
import { createHash, randomBytes } from "node:crypto";
import { readFile, stat, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { signatureVerifies } from "../../scripts/cli/firmware-signing.ts";
import { otaHeartbeat } from "../support/ota.ts";
import { getObject, post, sql, stack } from "../support/stack.ts";
import { buildOnce, runCli, tempDir } from "./harness.ts";

let home: string;
const env = () => ({ LIFELOG_CONFIG_DIR: home });
// A channel of its own, so cameras of other tests on the same account are never offered these.
const channel = `cli-${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  await buildOnce();
  home = await tempDir();
  const r = await runCli(["login", "--url", stack.supabase_url, "--email", stack.user.email, "--password-stdin"], { env: env(), stdin: stack.user_password });
  expect(r.code, r.stderr).toBe(0);
});

async function cameraOnChannel() {
  const paired = await post<{ device_id: string; pairing_code: string }>("pair", { name: "ota-cli-cam" }, { authorization: `Bearer ${stack.user_access_token}` });
  const activated = await post<{ device_id: string; device_token: string }>("activate", { pairing_code: paired.body.pairing_code });
  await sql`update public.devices set firmware_channel = ${channel} where id = ${activated.body.device_id}`;
  return { id: activated.body.device_id, token: activated.body.device_token };
}

describe("release commands", () => {
  it("keygen, release, releases, halt, resume-release and rollout", async () => {
    const made = await runCli(["keygen", "--json"], { env: env() });
    expect(made.code, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout) as { key_file: string; public_key: string; key_id: string };
    expect(key.key_file).toBe(join(home, "release-key.pem"));
    expect((await stat(key.key_file)).mode & 0o777).toBe(0o600);
    const pem = await readFile(key.key_file, "utf8");
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(made.stdout).not.toContain("PRIVATE");
    expect(key.key_id).toBe(createHash("sha256").update(Buffer.from(key.public_key, "hex")).digest("hex").slice(0, 16));
    // a second keygen would strand every camera built with the first key
    expect((await runCli(["keygen"], { env: env() })).code).toBe(2);
    expect(await readFile(key.key_file, "utf8")).toBe(pem);

    const image = randomBytes(50_000);
    const imagePath = join(home, "fw.bin");
    await writeFile(imagePath, image);
    const released = await runCli(["release", imagePath, "--version", "0.9.0", "--percent", "100", "--channel", channel, "--json"], { env: env() });
    expect(released.code, released.stderr).toBe(0);
    const view = JSON.parse(released.stdout);
    expect(view).toMatchObject({ version: "0.9.0", channel, rollout_percent: 100, halted: false, size: image.length, key_id: key.key_id,
      sha256: createHash("sha256").update(image).digest("hex") });
    const [row] = await sql`select signature, public_key, object_key from public.firmware_releases where id = ${view.id}`;
    expect(row.public_key).toBe(key.public_key);
    expect(signatureVerifies({ version: "0.9.0", size: image.length, sha256: view.sha256, signature: row.signature, public_key: row.public_key, key_id: key.key_id })).toBe(true);
    expect(Buffer.from((await getObject(row.object_key))!)).toEqual(image);
    // the private key went nowhere: not in the database's release row, not in the output
    expect(JSON.stringify(row)).not.toContain(pem.split("\n")[1]);

    const cam = await cameraOnChannel();
    expect((await otaHeartbeat(cam.token)).body.update).toMatchObject({ version: "0.9.0", key_id: key.key_id });
    await otaHeartbeat(cam.token, { ota_state: "downloaded", ota_version: "0.9.0" });

    const listed = await runCli(["releases", "--json"], { env: env() });
    expect(listed.code, listed.stderr).toBe(0);
    const mine = (JSON.parse(listed.stdout) as Array<{ id: string; progress: unknown }>).find((r) => r.id === view.id);
    expect(mine?.progress).toEqual({ offered: 1, downloaded: 1, installed: 0, confirmed: 0, rolled_back: 0, refused: 0 });
    const shown = await runCli(["releases"], { env: env() });
    expect(shown.stdout).toMatch(/^VERSION +CHANNEL +ID +ROLLOUT +STATE +OFFERED +DOWNLOADED +INSTALLED +CONFIRMED +ROLLED BACK +REFUSED$/m);
    expect(shown.stdout).toMatch(new RegExp(`^0\\.9\\.0 +${channel} +${view.id.slice(0, 8)} +100% +rolling out +1 +1 +0 +0 +0 +0$`, "m"));

    const halted = await runCli(["halt", "0.9.0", "--channel", channel, "--json"], { env: env() });
    expect(halted.code, halted.stderr).toBe(0);
    expect(JSON.parse(halted.stdout)).toMatchObject({ halted: true, halted_reason: "owner" });
    expect((await otaHeartbeat(cam.token)).body.update).toBeUndefined();
    const resumed = await runCli(["resume-release", view.id.slice(0, 8), "--channel", channel], { env: env() });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("rolling out again to 100 %");
    expect((await otaHeartbeat(cam.token)).body.update).toMatchObject({ version: "0.9.0" });
    const lowered = await runCli(["rollout", "0.9.0", "0", "--channel", channel, "--json"], { env: env() });
    expect(JSON.parse(lowered.stdout)).toMatchObject({ rollout_percent: 0 });
    expect((await otaHeartbeat(cam.token)).body.update).toBeUndefined();
  });

  it("refuses a key others can read, a bad version or percentage, a too large image, and an unknown release", async () => {
    const keyFile = join(home, "loose.pem");
    expect((await runCli(["keygen", "--key", keyFile], { env: env() })).code).toBe(0);
    const imagePath = join(home, "small.bin");
    await writeFile(imagePath, randomBytes(1000));
    await chmod(keyFile, 0o644);
    const loose = await runCli(["release", imagePath, "--version", "1.0.0", "--key", keyFile, "--channel", channel], { env: env() });
    expect(loose.code).toBe(1);
    expect(loose.stderr).toContain("chmod 600");
    await chmod(keyFile, 0o600);
    expect((await runCli(["release", imagePath, "--version", "1.0", "--key", keyFile], { env: env() })).code).toBe(2);
    expect((await runCli(["release", imagePath, "--version", "1.0.0", "--percent", "150", "--key", keyFile], { env: env() })).code).toBe(2);
    const big = join(home, "big.bin");
    await writeFile(big, Buffer.alloc(0x330001));
    const tooBig = await runCli(["release", big, "--version", "1.0.0", "--key", keyFile, "--channel", channel], { env: env() });
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain("one app slot");
    const unknown = await runCli(["halt", "7.7.7", "--channel", channel], { env: env() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no release "7.7.7"');
    const [{ n }] = await sql`select count(*)::int as n from public.firmware_releases where channel = ${channel} and version = '1.0.0'`;
    expect(n).toBe(0);
  });
});
