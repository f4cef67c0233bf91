// The simulated camera behind a slow or unwilling link: a 2 KB/s uplink with 250 KB photos (the
// watchdog, modelled in the core, fed from inside the PUT), a 5 MB photo at 1 Mbit/s, Retry-After
// in both forms on 429 and 503 from the API and from storage, and a photo whose PUT always fails.
//   camera -> fault proxy -> gateway                      (API)
//   camera -> link proxy (throttle) -> fault proxy -> S3  (storage; upload URLs are signed for the link proxy)
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pairDevice } from "../../scripts/cli/api.ts";
import { type SeenRequest } from "../../scripts/stack/fault-proxy.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { type LinkProxy, startLinkProxy } from "../../scripts/sim/link-proxy.ts";
import { type CameraEvent, startSimCamera, syntheticFrame } from "../../scripts/sim/sim-camera.ts";
import { faultStack } from "../support/fault-stack.ts";
import { tempDir } from "../support/temp.ts";

let link: LinkProxy;
let linkPort: number;

const env = faultStack({
  name: "link", seeds: { api: 1, storage: 2 }, camera: true,
  storageFront: async () => {
    linkPort = await freePort();
    await setLinkRate(0);
    return `http://127.0.0.1:${linkPort}`;
  },
});
afterAll(() => link?.stop());

async function setLinkRate(bytesPerSecond: number): Promise<void> {
  await link?.stop();
  link = await startLinkProxy({ port: linkPort, upstream: { host: "127.0.0.1", port: env.storageProxy.port }, upBytesPerSecond: bytesPerSecond });
}

async function camera(o: { photos: number; photoSize: number; intervalMs?: number; extraArgs?: string[] }) {
  const dir = await tempDir("lifelog-camera-");
  const { device_id: deviceId, pairing_code: pairingCode } = await pairDevice(env.stack.info.api_base, env.stack.info.user_access_token);
  const run = startSimCamera({
    apiBase: env.apiBase, card: join(dir, "card"), nvs: join(dir, "nvs.json"), pairingCode,
    intervalMs: o.intervalMs ?? 200, photos: o.photos, exitWhenDrained: true, photoSize: o.photoSize,
    extraArgs: o.extraArgs ?? [],
  });
  return { deviceId, run };
}

async function storedItems(deviceId: string) {
  return await env.sql<{ device_seq: string; metadata: { frame: number; sha256: string; size: number } }[]>`
    select device_seq, metadata from public.source_items where device_id = ${deviceId} order by device_seq`;
}

const sha = (frame: number, size: number) => createHash("sha256").update(syntheticFrame(1, frame, size)).digest("hex");
const last = (events: CameraEvent[], name: string) => events.filter((e) => e.event === name).at(-1);

describe("simulated camera on a 2 KB/s uplink with 250 KB photos", () => {
  it("feeds the watchdog at least every 10 s, keeps every step within its budget and ingests the photo once", async () => {
    await setLinkRate(2048);
    const size = 250 * 1024;
    const budget = 240_000;
    const { deviceId, run } = await camera({
      photos: 1, photoSize: size, extraArgs: ["--step-budget-ms", String(budget), "--max-runtime-ms", "280000"],
    });
    const code = await run.exit;
    const drained = last(run.events, "drained");
    const steps = run.events.filter((e) => e.event === "step").map((e) => e.ms as number);
    const items = await storedItems(deviceId);
    const report = {
      exit: code, watchdog_max_gap_ms: drained?.watchdog_max_gap_ms, longest_step_ms: drained?.longest_step_ms,
      steps_over_1s_ms: steps, retries: run.events.filter((e) => e.event === "retry").length, items: items.length,
    };
    console.log(`2 KB/s uplink: ${JSON.stringify(report)}`);
    expect(code).toBe(0); // 7 would be the modelled watchdog firing (a reset on the board)
    expect(run.events.some((e) => e.event === "watchdog_reset")).toBe(false);
    expect(drained?.watchdog_max_gap_ms as number).toBeLessThanOrEqual(10_000);
    expect(drained?.longest_step_ms as number).toBeGreaterThan(100_000); // really that slow
    expect(Math.max(...steps)).toBeLessThanOrEqual(budget);
    expect(items).toHaveLength(1);
    expect(items[0].metadata.sha256).toBe(sha(0, size));
  }, 300_000);
});

describe("simulated camera with a 5 MB photo at 1 Mbit/s", () => {
  it("ingests it once with the default 15 s timeout (measured from the last byte of progress)", async () => {
    const { storageProxy } = env;
    await setLinkRate(125_000);
    const size = 5 * 1024 * 1024;
    const before = storageProxy.stats.requests.length;
    const { deviceId, run } = await camera({ photos: 1, photoSize: size, extraArgs: ["--max-runtime-ms", "150000"] });
    const code = await run.exit;
    const puts = storageProxy.stats.requests.slice(before).filter((r) => r.line.startsWith("PUT "));
    const items = await storedItems(deviceId);
    console.log(`5 MB at 1 Mbit/s: ${JSON.stringify({ exit: code, puts: puts.length, longest_step_ms: last(run.events, "drained")?.longest_step_ms, retries: run.events.filter((e) => e.event === "retry").map((e) => e.code) })}`);
    expect(code).toBe(0);
    expect(puts).toHaveLength(1);
    expect(items).toHaveLength(1);
    expect(items[0].metadata.sha256).toBe(sha(0, size));
  }, 200_000);
});

describe("simulated camera told to wait (Retry-After)", () => {
  it("waits at least what the server asked, in seconds above the backoff cap and as an HTTP-date, on 429 and 503 from API and storage", async () => {
    const { apiProxy, storageProxy } = env;
    await setLinkRate(0);
    const date = (t: Date) => t.toUTCString(); // IMF-fixdate
    const later = (t: Date, s: number) => new Date(t.getTime() + s * 1000);
    apiProxy.answer({ status: 429, match: /upload-url/, headers: () => ({ "Retry-After": "3" }) });
    apiProxy.answer({ status: 503, match: /ingest/, headers: (now) => ({ Date: date(now), "Retry-After": date(later(now, 3)) }) });
    storageProxy.answer({ status: 503, match: /^PUT /, body: "<Error><Code>SlowDown</Code></Error>", headers: () => ({ "Retry-After": "3" }) });
    storageProxy.answer({ status: 429, match: /^PUT /, body: "<Error/>", headers: (now) => ({ Date: date(now), "Retry-After": date(later(now, 3)) }) });
    const start = Date.now();
    const { deviceId, run } = await camera({
      photos: 1, photoSize: 30_000,
      // the backoff cap (1 s) is far below what the server asks (3 s): the server wins
      extraArgs: ["--backoff-base-ms", "100", "--backoff-cap-ms", "1000", "--max-runtime-ms", "60000"],
    });
    const code = await run.exit;
    const seen = [...apiProxy.stats.requests, ...storageProxy.stats.requests].filter((r) => r.at >= start).sort((a, b) => a.at - b.at);
    const waits = seen.flatMap((r: SeenRequest, i) => {
      if (!r.canned) return [];
      const h = r.canned.headers;
      const next = seen[i + 1];
      const askedUntil = /^\d+$/.test(h["Retry-After"]) ? r.canned.at + Number(h["Retry-After"]) * 1000 : Date.parse(h["Retry-After"]);
      return [{ line: r.line.split("?")[0], status: r.canned.status, retry_after: h["Retry-After"], asked_ms: askedUntil - r.canned.at, gap_ms: next ? next.at - r.canned.at : null, next_at_or_after_asked: next ? next.at >= askedUntil : false }];
    });
    console.log(`Retry-After: ${JSON.stringify(waits)}`);
    expect(code).toBe(0);
    expect(waits).toHaveLength(4);
    expect(waits.map((w) => w.status).sort()).toEqual([429, 429, 503, 503]);
    for (const w of waits) expect(w.next_at_or_after_asked, JSON.stringify(w)).toBe(true);
    expect(await storedItems(deviceId)).toHaveLength(1);
  }, 90_000);
});

describe("simulated camera with a photo whose upload keeps failing", () => {
  it("sends the photos behind it, then that one once storage takes it", async () => {
    const { apiProxy, storageProxy } = env;
    await setLinkRate(0);
    apiProxy.clearAnswers();
    storageProxy.clearAnswers();
    // Every PUT of seq 0 gets 503 (no Retry-After) until the others are in.
    storageProxy.answer({ status: 503, match: /^PUT \S*\/0-[^/ ]*\.jpg/, body: "<Error/>", times: 1_000_000 });
    let deviceId = "";
    const { deviceId: id, run } = await camera({
      photos: 4, photoSize: 20_000, intervalMs: 100,
      extraArgs: ["--backoff-base-ms", "50", "--backoff-cap-ms", "400", "--max-runtime-ms", "60000"],
    });
    deviceId = id;
    let othersIn = false;
    while (!othersIn && run.child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 200));
      const seqs = (await storedItems(deviceId)).map((i) => Number(i.device_seq));
      othersIn = [1, 2, 3].every((s) => seqs.includes(s));
      if (othersIn) expect(seqs).not.toContain(0);
    }
    storageProxy.clearAnswers();
    const code = await run.exit;
    const items = await storedItems(deviceId);
    console.log(`stuck photo: ${JSON.stringify({ exit: code, deferred: run.events.filter((e) => e.event === "deferred").length, seqs: items.map((i) => i.device_seq) })}`);
    expect(othersIn).toBe(true);
    expect(code).toBe(0);
    expect(items.map((i) => Number(i.device_seq))).toEqual([0, 1, 2, 3]);
    expect(run.events.some((e) => e.event === "deferred" && e.seq === 0)).toBe(true);
  }, 90_000);
});
