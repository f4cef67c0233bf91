// The simulated camera (the firmware's portable core built for the host) against the
// local stack, through proxies that cut connections at random points of requests and
// responses and answer some requests with 503, while the camera process is killed
// (SIGKILL) and restarted at random moments. Afterwards every photo is on the server
// exactly once, byte for byte, and the card's queue is empty.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type FaultPlan, NO_FAULTS, seededRandom } from "../../scripts/stack/fault-proxy.ts";
import { pairDevice } from "../../scripts/cli/api.ts";
import { type CameraEvent, type SimCameraRun, startSimCamera, syntheticFrame } from "../../scripts/sim/sim-camera.ts";
import { cardFiles, recordsOnCard } from "../support/card.ts";
import { faultStack } from "../support/fault-stack.ts";
import { storedObject } from "../support/stored-object.ts";
import { tempDir } from "../support/temp.ts";

const PHOTOS = 40;
const MIN_KILLS = 5;
const PHOTO_SIZE = 60_000;
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 100000);
// Cut offsets span each message: API requests and answers are under 1.5 KB, a PUT
// carries a 60 KB photo, storage answers a few hundred bytes.
const API_FAULTS: FaultPlan = { cutRequest: 0.1, cutResponse: 0.1, unavailable: 0.1, maxRequestCut: 1_500, maxResponseCut: 1_500 };
const STORAGE_FAULTS: FaultPlan = { cutRequest: 0.1, cutResponse: 0.1, unavailable: 0.1, maxRequestCut: 61_000, maxResponseCut: 400 };

const env = faultStack({ name: "camera-faults", seeds: { api: SEED, storage: SEED + 1 }, camera: true });

async function cardContents(card: string): Promise<string> {
  const files = (await readdir(card, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile());
  return (await Promise.all(files.map((f) => readFile(join(f.parentPath, f.name), "latin1")))).join("");
}

async function waitForEvent(run: SimCameraRun, name: string): Promise<void> {
  while (!run.events.some((e) => e.event === name)) {
    if (run.child.exitCode !== null) throw new Error(`the camera exited (${run.child.exitCode}) before "${name}"`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startCamera(card: string, nvs: string, pairingCode: string, modeArgs: string[] = []): SimCameraRun {
  return startSimCamera({
    apiBase: env.apiBase, card, nvs, pairingCode, intervalMs: 250, photos: PHOTOS,
    exitWhenDrained: true, photoSize: PHOTO_SIZE,
    extraArgs: ["--backoff-base-ms", "50", "--backoff-cap-ms", "800", "--net-timeout-ms", "3000",
      "--seed", String(SEED), "--max-runtime-ms", "120000", ...modeArgs],
  });
}

// The camera drains in batches (upload-urls, ingest-batch) when more than one photo waits;
// each boot here starts 1.5 s offline so that a backlog waits every time, and batches hold at
// most 8 so that a 40-photo run makes enough batch calls for the faults to hit. The single
// routes (--batch 1) get the same faults and kills.
const MODES = [
  { mode: "in batches", args: ["--offline-ms", "1500", "--batch", "8"], batches: true },
  { mode: "on the single routes", args: ["--batch", "1"], batches: false },
];

describe.each(MODES)("simulated camera under faults and power cuts, $mode", ({ args, batches }) => {
  it(`delivers exactly ${PHOTOS} photos, byte-identical, with an empty card queue`, async () => {
    const { stack, apiProxy, storageProxy, sql } = env;
    const random = seededRandom(SEED + 2);
    const dir = await tempDir("lifelog-camera-");
    const card = join(dir, "card");
    const nvs = join(dir, "nvs.json");
    const { device_id: deviceId, pairing_code: pairingCode } = await pairDevice(stack.info.api_base, stack.info.user_access_token, "e2e camera");

    // Faults from the first request on: activation too must survive lost answers and kills.
    // Storage refuses every PUT until the first power cut, so that cut certainly finds
    // photos on the card (a photo leaves the card only once its ingest succeeded).
    apiProxy.setPlan(API_FAULTS);
    storageProxy.setPlan({ ...NO_FAULTS, unavailable: 1 });
    const allEvents: CameraEvent[] = [];
    const startedAt = Date.now();
    let run = startCamera(card, nvs, pairingCode, args);

    // Kills land anywhere: mid-capture, mid-PUT, between ingest and delete, mid-NVS write.
    const cardSnapshots: string[] = [];
    let kills = 0;
    const plannedKills = MIN_KILLS + Math.floor(random() * 3);
    while (kills < plannedKills) {
      if (kills === 0) await waitForEvent(run, "captured");
      else await new Promise((r) => setTimeout(r, 200 + random() * 1000));
      if (run.child.exitCode !== null) break; // drained before all kills: the assertion on kills says so
      run.child.kill("SIGKILL");
      kills++;
      await run.exit;
      cardSnapshots.push(await cardContents(card)); // what a thief would find on the card now
      allEvents.push(...run.events);
      storageProxy.setPlan(STORAGE_FAULTS);
      run = startCamera(card, nvs, pairingCode, args);
    }
    const code = await run.exit;
    allEvents.push(...run.events);
    apiProxy.setPlan(NO_FAULTS);
    storageProxy.setPlan(NO_FAULTS);
    expect(code, `last run's exit code (seed ${SEED})`).toBe(0);

    const items = await sql<{ device_seq: string; storage_key: string; metadata: { frame: number; sha256: string; size: number } }[]>`
      select device_seq, storage_key, metadata from public.source_items where device_id = ${deviceId}`;
    const [{ jobs }] = await sql`select count(*)::int as jobs from public.processing_jobs j
      join public.source_items i on i.id = j.item_id where i.device_id = ${deviceId}`;
    const frames = items.map((i) => i.metadata.frame).sort((a, b) => a - b);
    // What each frame must be: the synthetic sensor's bytes, computed here rather than
    // taken from the camera's own "captured" lines (a kill can swallow the last line).
    const expectedSha = (frame: number) => createHash("sha256").update(syntheticFrame(SEED, frame, PHOTO_SIZE)).digest("hex");
    const reportedWrong = allEvents.filter((e) => e.event === "captured" && e.sha256 !== expectedSha(e.frame as number));

    let identical = 0;
    for (const item of items) {
      const bytes = await storedObject(stack.info.storage, item.storage_key);
      const sha = bytes && createHash("sha256").update(bytes).digest("hex");
      if (bytes && sha === expectedSha(item.metadata.frame) && sha === item.metadata.sha256 &&
        bytes.length === item.metadata.size) identical++;
    }
    const nvsText = await readFile(nvs, "utf8");
    const leftOnCard = await cardFiles(join(card, "queue"));
    const count = (name: string) => allEvents.filter((e) => e.event === name).length;
    const routes = env.apiRoutes(startedAt);
    const report = {
      seed: SEED,
      photos_on_server: items.length,
      distinct_frames: new Set(frames).size,
      distinct_seqs: new Set(items.map((i) => i.device_seq)).size,
      byte_identical: identical,
      jobs,
      kills,
      camera_runs: kills + 1,
      files_left_on_card: leftOnCard.length,
      camera: { retries: count("retry"), reuploads: count("reupload"), duplicates: count("duplicate"), quarantined: count("quarantined") },
      api_proxy: apiProxy.stats,
      api_routes: routes,
      storage_proxy: storageProxy.stats,
    };
    console.log(`camera e2e: ${JSON.stringify(report)}`);

    // The paths this run was about: batches of several photos, or only the single routes.
    if (batches) {
      expect(routes["upload-urls"] ?? 0).toBeGreaterThanOrEqual(3);
      expect(routes["ingest-batch"] ?? 0).toBeGreaterThanOrEqual(3);
    } else {
      expect((routes["upload-urls"] ?? 0) + (routes["ingest-batch"] ?? 0)).toBe(0);
    }
    expect(items).toHaveLength(PHOTOS);
    expect(frames).toEqual(Array.from({ length: PHOTOS }, (_, i) => i));
    expect(report.distinct_seqs).toBe(PHOTOS);
    expect(identical).toBe(PHOTOS);
    expect(reportedWrong).toEqual([]);
    expect(jobs).toBe(PHOTOS);
    expect(leftOnCard).toEqual([]);
    expect(nvsText).toMatch(/devtok_[0-9A-Za-z]{38}/); // the token lives in NVS…
    expect(cardSnapshots[0]).toContain("\u00ff\u00d8"); // the first cut found photos (JPEG SOI)…
    expect(cardSnapshots.join("")).not.toContain("devtok_"); // …and never the token
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    for (const proxy of [apiProxy, storageProxy]) expect(proxy.stats.cutRequest + proxy.stats.cutResponse).toBeGreaterThan(0);
    expect(apiProxy.stats.unavailable + storageProxy.stats.unavailable).toBeGreaterThan(0);
  }, 300_000);
});

describe("simulated camera whose token is revoked", () => {
  it("stops uploading, keeps its photos on the card and says so", async () => {
    const { stack, apiProxy, storageProxy, sql } = env;
    apiProxy.setPlan(NO_FAULTS);
    storageProxy.setPlan(NO_FAULTS);
    const dir = await tempDir("lifelog-camera-");
    const { device_id: deviceId, pairing_code: pairingCode } = await pairDevice(stack.info.api_base, stack.info.user_access_token);
    const run = startSimCamera({
      apiBase: env.apiBase, card: join(dir, "card"), nvs: join(dir, "nvs.json"), pairingCode,
      intervalMs: 200, photos: 10, exitWhenDrained: true, photoSize: 20_000,
      extraArgs: ["--max-runtime-ms", "60000"],
      onEvent: (e) => {
        // postgres.js sends a query only once it is awaited or then()-ed
        if (e.event === "ingested" && e.seq === 1) sql`update public.devices set revoked_at = now() where id = ${deviceId}`.then(() => {});
      },
    });
    expect(await run.exit).toBe(3);
    expect(run.events.at(-1)?.event).toBe("token_dead");
    const [{ n }] = await sql`select count(*)::int as n from public.source_items where device_id = ${deviceId}`;
    const kept = await recordsOnCard(join(dir, "card"));
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThan(10);
    expect(kept.length).toBeGreaterThan(0);
    expect(n + kept.length).toBe(run.events.filter((e) => e.event === "captured").length);
  }, 120_000);
});

describe("simulated camera with a backlog", () => {
  it("keeps its capture rhythm while the backlog uploads", async () => {
    const { stack, apiProxy, storageProxy } = env;
    const interval = 400;
    // A slow uplink: each 120 KB photo takes ~0.25 s to PUT, so the 8-photo backlog takes
    // ~2 s, far longer than the interval; only interleaving keeps the rhythm (a capture
    // may wait for the one PUT in progress).
    storageProxy.setPlan({ ...NO_FAULTS, uplinkBytesPerSecond: 500_000 });
    const dir = await tempDir("lifelog-camera-");
    const { pairing_code: pairingCode } = await pairDevice(stack.info.api_base, stack.info.user_access_token);
    // Activate while online, then go offline (every API request gets 503) to queue a backlog.
    apiProxy.setPlan(NO_FAULTS);
    let backlogDrainingSince: number | undefined;
    const run = startSimCamera({
      apiBase: env.apiBase, card: join(dir, "card"), nvs: join(dir, "nvs.json"), pairingCode,
      intervalMs: interval, photos: 16, exitWhenDrained: true, photoSize: 120_000,
      extraArgs: ["--backoff-base-ms", "100", "--backoff-cap-ms", "300", "--max-runtime-ms", "60000"],
      onEvent: (e) => {
        if (e.event === "activated") apiProxy.setPlan({ ...NO_FAULTS, unavailable: 1 });
        if (e.event === "captured" && e.seq === 7) {
          apiProxy.setPlan(NO_FAULTS); // back online with 8 photos waiting
          backlogDrainingSince = e.t_ms;
        }
      },
    });
    expect(await run.exit).toBe(0);
    const captures = run.events.filter((e) => e.event === "captured").map((e) => e.t_ms);
    const ingestedWhileCapturing = run.events.filter((e) =>
      e.event === "ingested" && backlogDrainingSince !== undefined && e.t_ms > backlogDrainingSince && e.t_ms < captures.at(-1)!);
    const gaps = captures.slice(1).map((t, i) => t - captures[i]);
    console.log(`capture gaps (ms) with a backlog: ${gaps.join(" ")}`);
    expect(captures).toHaveLength(16);
    expect(ingestedWhileCapturing.length).toBeGreaterThan(0); // uploads and captures interleaved
    expect(Math.max(...gaps)).toBeLessThan(interval * 2.5);
    storageProxy.setPlan(NO_FAULTS);
  }, 120_000);
});
