// A week offline on the FAT card model: the simulated camera takes 20,160 photos (one every
// 30 s on a simulated clock) with no network, then comes back online and drains its backlog
// into the local stack. The card is FatCard (firmware-config/tests/support/fat_card.h), so
// FatFs's folder limit and lookup costs apply; photos are tiny to keep the drain short.
// The drain goes in windows of 32 (upload-urls, 32 PUTs, ingest-batch): about 1,260 API calls
// and 20,160 PUTs, several minutes on 2 busy cores, so it runs when LIFELOG_WEEK_TEST=1 (set by
// .ci/run) and is skipped in everyday `npm test` runs.
import { createHash } from "node:crypto";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pairDevice } from "../../scripts/cli/api.ts";
import { buildSimCamera, startSimCamera, syntheticFrame } from "../../scripts/sim/sim-camera.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

const PHOTOS = 20_160; // a week at one photo per 30 s
const INTERVAL_MS = 30_000;
const PHOTO_SIZE = 200;
const SEED = 1; // sim-camera's default --seed
const WEEK_MS = PHOTOS * INTERVAL_MS;

// Its own stack. The per-device request limit is raised from its default (300 a minute): the
// camera runs on a simulated clock, so a 429's Retry-After passes in simulated time only while
// the server's limit window runs on the real one; a fast machine drains the week's 630 batch
// calls in under a minute of real time, and the camera would spend its whole simulated hour
// retrying in a few real seconds. What this test shows is the card and exactly once, not the
// limit (tests/api and the drain bench cover that at the defaults).
let own: Stack;
let sql: postgres.Sql;
beforeAll(async () => {
  if (process.env.LIFELOG_WEEK_TEST !== "1") return;
  await buildSimCamera();
  own = await startStack({
    workDir: await tempDir("lifelog-week-stack-"), ports: "random",
    functionEnv: { DEVICE_REQUESTS_PER_MINUTE: "100000" },
  });
  sql = postgres(own.info.db_url, { onnotice: () => {} });
}, 300_000);
afterAll(async () => {
  await sql?.end();
  await own?.stop();
});

describe.runIf(process.env.LIFELOG_WEEK_TEST === "1")("simulated camera a week offline on a FAT card", () => {
  it("captures 20,160 photos without a card failure, then delivers each exactly once", async () => {
    const dir = await tempDir("lifelog-week-");
    const stack = own.info;
    const { device_id: deviceId, pairing_code: pairingCode } = await pairDevice(stack.api_base, stack.user_access_token);
    const run = startSimCamera({
      apiBase: stack.api_base, card: join(dir, "card"), nvs: join(dir, "nvs"), pairingCode,
      intervalMs: INTERVAL_MS, photos: PHOTOS, exitWhenDrained: true, photoSize: PHOTO_SIZE,
      extraArgs: ["--fat-card", String(32 * 2 ** 30), "--sim-clock", "--offline-ms", String(WEEK_MS),
        "--max-runtime-ms", String(WEEK_MS + 3_600_000)],
    });
    const code = await run.exit;
    const byName = (name: string) => run.events.filter((e) => e.event === name);
    const drained = byName("drained")[0];
    const ingested = byName("ingested");
    console.log(`week offline: ${JSON.stringify({
      captured: byName("captured").length, capture_failed: byName("capture_failed").length,
      ingested: ingested.length, duplicates: byName("duplicate").length, retries: byName("retry").length,
      retry_reasons: byName("retry").reduce<Record<string, number>>((acc, e) => {
        const why = `${e.step} ${e.status} ${e.code}`;
        acc[why] = (acc[why] ?? 0) + 1;
        return acc;
      }, {}),
      card_sector_reads: drained?.card_sector_reads, card_max_capture_reads: drained?.card_max_capture_reads,
      card_max_step_reads: drained?.card_max_step_reads,
    })}`);
    expect(code).toBe(0);
    expect(byName("captured")).toHaveLength(PHOTOS);
    expect(byName("capture_failed")).toEqual([]);
    expect(byName("evicted")).toEqual([]);
    // In batches the drain never met the per-device request limit.
    expect(byName("retry").filter((e) => e.status === 429)).toEqual([]);
    expect(drained?.dropped).toBe(0);
    // Nothing went out while offline: the first upload comes after the week.
    expect(Math.min(...ingested.map((e) => e.t_ms))).toBeGreaterThanOrEqual(WEEK_MS);
    // Bounded card work all along: no capture or upload step above 2,000 sector reads.
    expect(drained?.card_max_capture_reads).toBeLessThan(2000);
    expect(drained?.card_max_step_reads).toBeLessThan(2000);

    const items = await sql<{ device_seq: string; metadata: { frame: number; sha256: string; size: number } }[]>`
      select device_seq, metadata from public.source_items where device_id = ${deviceId}`;
    const frames = items.map((i) => i.metadata.frame).sort((a, b) => a - b);
    const wrong = items.filter((i) =>
      i.metadata.sha256 !== createHash("sha256").update(syntheticFrame(SEED, i.metadata.frame, PHOTO_SIZE)).digest("hex"));
    expect(items).toHaveLength(PHOTOS);
    expect(new Set(items.map((i) => i.device_seq)).size).toBe(PHOTOS);
    expect(frames).toEqual(Array.from({ length: PHOTOS }, (_, i) => i));
    expect(wrong).toHaveLength(0);
  }, 900_000);
});
