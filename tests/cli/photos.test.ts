// photos, pin and retention against the local stack, signed in as its user.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retriageFrom } from "../../scripts/worker/retriage.ts";
import { insertPhotoRow } from "../support/photo-rows.ts";
import { post, sql, stack } from "../support/stack.ts";
import { buildOnce, runCli, tempDir } from "./harness.ts";

let home: string;
const env = () => ({ LIFELOG_CONFIG_DIR: home });
const DAY = "2026-11-15";
let ids: string[] = [];
let deviceId = "";
let policyBefore: unknown;

beforeAll(async () => {
  await buildOnce();
  home = await tempDir();
  const r = await runCli(["login", "--url", stack.supabase_url, "--email", stack.user.email, "--password-stdin"], { env: env(), stdin: stack.user_password });
  expect(r.code, r.stderr).toBe(0);
  const [{ id: userId }] = await sql<{ id: string }[]>`select id from auth.users where email = ${stack.user.email}`;
  const paired = await post<{ device_id: string }>("pair", { name: `cli-photos-${Date.now()}` }, { authorization: `Bearer ${stack.user_access_token}` });
  deviceId = paired.body.device_id;
  const t0 = Date.parse(`${DAY}T10:00:00Z`);
  ids = [];
  for (const [k, luma] of [120, 3, 120].entries()) {
    const row = await insertPhotoRow(sql, userId, deviceId, { seq: k, capturedAt: new Date(t0 + k * 30_000), meanLuma: luma, dhash: BigInt(k * 0xffff) });
    await sql.begin((tx) => retriageFrom(tx, row.id));
    ids.push(row.id);
  }
  policyBefore = (await runCli(["retention", "--json"], { env: env() })).stdout;
});
afterAll(async () => {
  // the stack's user is shared: leave its policy as it was
  const p = JSON.parse(String(policyBefore)) as { originals_days: number; hidden_grace_days: number; quota_bytes: number | null };
  await sql`update public.retention_policies set originals_days = ${p.originals_days}, hidden_grace_days = ${p.hidden_grace_days},
              quota_bytes = ${p.quota_bytes} where user_id = (select id from auth.users where email = ${stack.user.email})`;
});

describe("photo commands", () => {
  it("lists a day's photos, hiding the dark one unless --all, as a table and as JSON", async () => {
    const shown = await runCli(["photos", "--day", DAY, "--json"], { env: env() });
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { item_id: string }[]).map((p) => p.item_id)).toEqual([ids[0], ids[2]]);
    const all = await runCli(["photos", "--day", DAY, "--all"], { env: env() });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^CAPTURED \(UTC\) +ID +STATUS +FLAGS +SHOWN +PINNED +ORIGINAL +MOMENT$/m);
    expect(all.stdout).toMatch(new RegExp(`^${DAY} 10:00:30 +${ids[1]} +processed +dark +hidden +- +kept +`, "m"));
    expect(all.stdout).toContain("3 photo(s)");
    const byDevice = await runCli(["photos", deviceId.slice(0, 8), "--day", DAY, "--all", "--json"], { env: env() });
    expect(JSON.parse(byDevice.stdout)).toHaveLength(3);
    const bad = await runCli(["photos", "--day", "15.11.2026"], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--day wants YYYY-MM-DD");
    const tooLong = await runCli(["photos", "--from", "2026-01-01T00:00:00Z", "--to", "2026-03-01T00:00:00Z"], { env: env() });
    expect(tooLong.code).not.toBe(0);
    expect(tooLong.stderr).toContain("at most 31 days");
  });

  it("pins and unpins a photo", async () => {
    const pinned = await runCli(["pin", ids[1], "--json"], { env: env() });
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ item_id: ids[1], pinned: true, hidden: false });
    const shown = await runCli(["photos", "--day", DAY, "--json"], { env: env() });
    expect(JSON.parse(shown.stdout)).toHaveLength(3);
    const off = await runCli(["pin", ids[1], "--off"], { env: env() });
    expect(off.stdout).toContain("Unpinned");
    expect(off.stdout).toContain("it is hidden");
    const unknown = await runCli(["pin", "00000000-0000-4000-8000-000000000000"], { env: env() });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("that photo is not in your account");
    expect((await runCli(["pin", "abc"], { env: env() })).code).toBe(2);
  });

  it("shows and changes the retention policy", async () => {
    const changed = await runCli(["retention", "--originals-days", "14", "--quota", "5GB", "--json"], { env: env() });
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ originals_days: 14, quota_bytes: 5e9 });
    const shown = await runCli(["retention"], { env: env() });
    expect(shown.stdout).toContain("Originals are kept 14 days");
    expect(shown.stdout).toContain("Storage quota 5.0 GB");
    const none = await runCli(["retention", "--quota", "none", "--json"], { env: env() });
    expect(JSON.parse(none.stdout).quota_bytes).toBeNull();
    const bad = await runCli(["retention", "--originals-days", "0"], { env: env() });
    expect(bad.code).toBe(2);
    expect(JSON.parse((await runCli(["retention", "--json"], { env: env() })).stdout).originals_days).toBe(14);
  });
});
