// Exactly once through the batch routes under faults: a retrying drain client (the way a
// camera drains with upload-urls and ingest-batch) behind fault proxies that cut requests
// and answers and answer 503, on both the API and storage. Every photo must end as one
// item and one job, with its own bytes in storage. The camera's firmware does not use the
// batch routes yet, so the client here is TypeScript (scripts/bench/kept-alive-client.ts).
import { createHash, randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { keptAliveClient, type Res } from "../../scripts/bench/kept-alive-client.ts";
import { syntheticFrame } from "../../scripts/sim/sim-camera.ts";
import { createLocalUser } from "../../scripts/stack/auth.ts";
import { type FaultPlan, NO_FAULTS } from "../../scripts/stack/fault-proxy.ts";
import { faultStack } from "../support/fault-stack.ts";
import { storedObject } from "../support/stored-object.ts";

const FAULTS: FaultPlan = { cutRequest: 0.1, cutResponse: 0.1, unavailable: 0.1, maxRequestCut: 3000, maxResponseCut: 400 };
const PHOTOS = 70;
const BATCH = 32;

const env = faultStack({ name: "batch-faults", seeds: { api: 11, storage: 12 } });

/** Retries a call until it answers something other than a cut connection or a 503. */
async function retried(send: () => Promise<Res>): Promise<Res> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const r = await send().catch(() => null);
    if (r && r.status !== 503 && r.status !== 0) return r;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error("no answer after 200 attempts");
}

it("a drain in batches through cut connections and 503s stores every photo exactly once", async () => {
  const { stack, apiProxy, storageProxy, sql } = env;
  const { accessToken } = await createLocalUser(sql, stack.authKey, `faults-${randomUUID().slice(0, 8)}@lifelog.local`);
  const setup = keptAliveClient();
  const paired = await setup.json(`${stack.info.api_base}/devices/pair`, { name: "faults" }, { authorization: `Bearer ${accessToken}` });
  const activated = await setup.json(`${stack.info.api_base}/devices/activate`, { pairing_code: paired.body.pairing_code }, {});
  setup.close();
  const h = { "x-device-token": activated.body.device_token as string };
  const photos = Array.from({ length: PHOTOS }, (_, seq) => {
    const bytes = syntheticFrame(7, seq, 3000 + seq * 17);
    return { seq, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
  });

  apiProxy.setPlan(FAULTS);
  storageProxy.setPlan(FAULTS);
  let api = keptAliveClient();
  let store = keptAliveClient();
  // A cut connection is a new connection for the next try, as on the camera.
  const viaApi = (path: string, body: unknown) => retried(() =>
    api.json(`${env.apiBase}/devices/${path}`, body, h).catch((e) => { api.close(); api = keptAliveClient(); throw e; }));
  const put = (r: Res, bytes: Uint8Array) => retried(() =>
    store.send(r.body.upload_url, "PUT", r.body.upload_headers, bytes).catch((e) => { store.close(); store = keptAliveClient(); throw e; }));
  try {
    for (let i = 0; i < PHOTOS; i += BATCH) {
      let pending = photos.slice(i, i + BATCH);
      for (let round = 0; pending.length > 0; round++) {
        expect(round).toBeLessThan(20);
        const targets = await viaApi("upload-urls", { items: pending.map((p) => ({
          filename: `IMG_${p.seq}.jpg`, content_type: "image/jpeg", seq: p.seq, size: p.bytes.length, sha256: p.sha256 })) });
        expect(targets.status).toBe(200);
        const results = targets.body.results as Res[];
        const live = pending.flatMap((p, k) => results[k].status === 200 ? [{ p, target: results[k] }] : []);
        // 409 already_ingested: an earlier round's ingest went through, its answer was cut.
        expect(results.every((r) => r.status === 200 || r.body.error.code === "already_ingested")).toBe(true);
        for (const { p, target } of live) {
          const r = await put(target, p.bytes);
          expect([200, 412]).toContain(r.status); // 412: an earlier PUT stored it, its answer was cut
        }
        const ingested = await viaApi("ingest-batch", { items: live.map(({ p, target }) => ({
          object_key: target.body.object_key, seq: p.seq, captured_at: "2026-12-01T10:00:00Z", content_type: "image/jpeg" })) });
        expect(ingested.status).toBe(200);
        const done = new Set(live.flatMap(({ p }, k) => [200, 201].includes(ingested.body.results[k].status) ? [p.seq] : []));
        pending = pending.filter((p) => !done.has(p.seq) && !results[pending.indexOf(p)].body?.error);
      }
    }
  } finally {
    api.close();
    store.close();
    apiProxy.setPlan(NO_FAULTS);
    storageProxy.setPlan(NO_FAULTS);
  }
  expect(apiProxy.stats.cutRequest + apiProxy.stats.cutResponse + apiProxy.stats.unavailable).toBeGreaterThan(0);
  const routes = env.apiRoutes();
  expect(routes["upload-urls"]).toBeGreaterThanOrEqual(Math.ceil(PHOTOS / BATCH));
  expect(routes["ingest-batch"]).toBeGreaterThanOrEqual(Math.ceil(PHOTOS / BATCH));
  expect(routes.ingest).toBeUndefined(); // pair and activate went to the gateway directly
  expect(storageProxy.stats.cutRequest + storageProxy.stats.cutResponse + storageProxy.stats.unavailable).toBeGreaterThan(0);

  const rows = await sql<{ device_seq: string; n: number; jobs: number; storage_key: string }[]>`
    select i.device_seq::text, count(*) over (partition by i.device_seq)::int as n,
           (select count(*) from public.processing_jobs j where j.item_id = i.id)::int as jobs, i.storage_key
      from public.source_items i where i.device_id = ${paired.body.device_id} order by i.device_seq`;
  expect(rows.map((r) => Number(r.device_seq))).toEqual(photos.map((p) => p.seq));
  expect(rows.every((r) => r.n === 1 && r.jobs === 1)).toBe(true);
  for (const r of rows) {
    const bytes = await storedObject(stack.info.storage, r.storage_key);
    expect(bytes && createHash("sha256").update(bytes).digest("hex")).toBe(photos[Number(r.device_seq)].sha256);
  }
}, 400_000);
