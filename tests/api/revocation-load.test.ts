// Revocation under load: a device keeps asking for upload URLs, PUTting and ingesting on
// several connections while it is revoked. Every request after the revoke commits is
// refused, no ingest after it is accepted, and no URL issued before it works past its
// (short) life. Runs its own stack with 4-second upload URLs.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalUser } from "../../scripts/stack/auth.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

const URL_TTL_SECONDS = 4;
let own: Stack;
let sql: postgres.Sql;
beforeAll(async () => {
  own = await startStack({
    workDir: await tempDir("lifelog-revoke-"), ports: "random",
    functionEnv: { DEVICE_UPLOAD_TTL_SECONDS: String(URL_TTL_SECONDS), DEVICE_REQUESTS_PER_MINUTE: "100000",
      DEVICE_ACCOUNT_REQUESTS_PER_MINUTE: "100000", DEVICE_MAX_OUTSTANDING_UPLOADS: "100000" },
  });
  sql = postgres(own.info.db_url, { onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await own?.stop();
});

const jpeg = (n: number) => {
  const b = new Uint8Array(1024).fill(n & 0xff);
  b.set([0xff, 0xd8, 0xff, 0xe0]);
  return b;
};

describe("revocation under load", () => {
  it("stops every later request, every later ingest, and every earlier URL after its life", async () => {
    const { accessToken } = await createLocalUser(sql, own.authKey, `r-${randomUUID().slice(0, 8)}@test.local`);
    const call = async (route: string, body: unknown, headers: Record<string, string> = {}) => {
      const started = Date.now();
      const r = await fetch(`${own.info.api_base}/devices/${route}`, {
        method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
      });
      return { route, started, status: r.status, body: await r.json() as Record<string, any> };
    };
    const pair = await call("pair", {}, { authorization: `Bearer ${accessToken}` });
    const act = await call("activate", { pairing_code: pair.body.pairing_code });
    const dev = { "x-device-token": act.body.device_token as string };

    const log: Array<{ route: string; started: number; status: number }> = [];
    const unusedUrls: Array<{ url: string; headers: Record<string, string>; issued: number }> = [];
    let seq = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const s = seq++;
        const target = await call("upload-url", { filename: `p${s}.jpg`, content_type: "image/jpeg", seq: s }, dev);
        log.push(target);
        if (target.status !== 200) continue;
        // every other URL is kept unused, to be tried after the revoke
        if (s % 2 === 0) {
          unusedUrls.push({ url: target.body.upload_url, headers: target.body.upload_headers, issued: target.started });
          continue;
        }
        const put = await fetch(target.body.upload_url, { method: "PUT", headers: target.body.upload_headers, body: jpeg(s) });
        await put.body?.cancel();
        log.push({ route: "put", started: Date.now(), status: put.status });
        log.push(await call("ingest", { object_key: target.body.object_key, seq: s, captured_at: "2026-11-30T10:00:00Z" }, dev));
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await new Promise((r) => setTimeout(r, 1500));
    const [{ revoked_at }] = await sql<{ revoked_at: Date }[]>`
      update public.devices set revoked_at = now() where id = ${act.body.device_id} returning revoked_at`;
    const committed = Date.now(); // the update above has committed when its answer is here
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(workers);

    const before = log.filter((l) => l.route !== "put" && l.started < revoked_at.getTime());
    const after = log.filter((l) => l.route !== "put" && l.started > committed);
    expect(before.filter((l) => l.status === 201 || l.status === 200).length).toBeGreaterThan(10);
    expect(after.length).toBeGreaterThan(10);
    expect(after.every((l) => l.status === 401)).toBe(true);
    // An ingest whose transaction began while the revoke was still uncommitted read the device
    // as active and may land (created_at is its transaction's start, after revoked_at): that
    // request was concurrent with the revoke, not after it. None may begin after the commit.
    const [{ late }] = await sql`select count(*)::int as late from public.source_items
                                  where device_id = ${act.body.device_id} and created_at >= ${new Date(committed)}`;
    expect(late).toBe(0);

    // URLs issued before the revoke, tried once their life is over: all refused by the store.
    const issuedBefore = unusedUrls.filter((u) => u.issued < revoked_at.getTime());
    expect(issuedBefore.length).toBeGreaterThan(3);
    const wait = Math.max(...issuedBefore.map((u) => u.issued)) + URL_TTL_SECONDS * 1000 + 1500 - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    const statuses = await Promise.all(issuedBefore.map(async (u) => {
      const r = await fetch(u.url, { method: "PUT", headers: u.headers, body: jpeg(1) });
      const text = await r.text();
      return `${r.status} ${/request has expired/.test(text) ? "expired" : text.slice(0, 60)}`;
    }));
    expect(new Set(statuses)).toEqual(new Set(["403 expired"]));
    console.log(`revocation under load: ${before.length} API requests before, ${after.length} after (all 401), ` +
      `${issuedBefore.length} earlier URLs refused after their ${URL_TTL_SECONDS} s life, 0 items after the revoke`);
  });
});
