// The reservation budget against an honest camera that loses photos: a small card fills
// during a storage outage, so the camera evicts photos that already hold reservations, and
// it is killed twice meanwhile. Those reservations are never ingested; the budget counts only
// live upload URLs, so once theirs expire (DEVICE_UPLOAD_TTL_SECONDS, short here) the camera
// gets targets again and every photo still on its card is ingested. Evictions are counted by
// the camera; nothing is lost beyond them.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NO_FAULTS } from "../../scripts/stack/fault-proxy.ts";
import { pairDevice } from "../../scripts/cli/api.ts";
import { type CameraEvent, type SimCameraRun, startSimCamera } from "../../scripts/sim/sim-camera.ts";
import { cardFiles } from "../support/card.ts";
import { faultStack } from "../support/fault-stack.ts";
import { tempDir } from "../support/temp.ts";

const PHOTOS = 50;
const PHOTO_SIZE = 100_000;
const OUTAGE_MS = 19_000;
const URL_TTL_S = 20;
// The signing margin a reservation outlives its URL by (upload-url.ts).
const SIGNING_MARGIN_S = 60;

const env = faultStack({
  name: "camera-stranded", seeds: { api: 1, storage: 2 }, camera: true,
  functionEnv: { DEVICE_UPLOAD_TTL_SECONDS: String(URL_TTL_S) },
});

describe("a camera whose card filled during a storage outage", () => {
  it("ingests every photo left on its card once the outage ends; evicted ones are counted, none else lost", async () => {
    const { stack, storageProxy, sql } = env;
    const dir = await tempDir("lifelog-stranded-");
    const card = join(dir, "card");
    const nvs = join(dir, "nvs.json");
    const { device_id: deviceId, pairing_code: pairingCode } = await pairDevice(stack.info.api_base, stack.info.user_access_token, "stranded");
    const start = () => startSimCamera({
      apiBase: env.apiBase, card, nvs, pairingCode, intervalMs: 300, photos: PHOTOS, exitWhenDrained: true, photoSize: PHOTO_SIZE,
      // 1.5 MB card, evicting below 200 KB free: about 13 photos fit.
      extraArgs: ["--card-capacity", "1500000", "--min-free-bytes", "200000", "--backoff-base-ms", "200",
        "--backoff-cap-ms", "2000", "--net-timeout-ms", "3000", "--max-runtime-ms", "300000"],
    });
    const events: CameraEvent[] = [];
    storageProxy.setPlan({ ...NO_FAULTS, unavailable: 1 }); // every PUT answers 503
    const startedAt = Date.now();
    let run: SimCameraRun = start();
    for (const at of [6_000, 12_000]) {
      await new Promise((r) => setTimeout(r, at - (Date.now() - startedAt)));
      run.child.kill("SIGKILL");
      await run.exit;
      events.push(...run.events);
      run = start();
    }
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - startedAt)));
    const [{ held }] = await sql<{ held: number }[]>`select count(*)::int as held from public.device_upload_reservations
      where device_id = ${deviceId} and ingested_at is null`;
    storageProxy.setPlan(NO_FAULTS);
    const outageEnded = Date.now();
    const code = await run.exit;
    events.push(...run.events);
    const drainedAfterMs = Date.now() - outageEnded;

    const drained = run.events.find((e) => e.event === "drained") as (CameraEvent & { dropped: number }) | undefined;
    const items = await sql<{ frame: number }[]>`
      select (metadata ->> 'frame')::int as frame from public.source_items where device_id = ${deviceId} order by 1`;
    const frames = items.map((i) => i.frame);
    const count = (name: string) => events.filter((e) => e.event === name).length;
    const tooMany = events.filter((e) => e.event === "retry" && e.code === "too_many_reservations");
    const report = {
      photos: PHOTOS, on_server: items.length, distinct_frames: new Set(frames).size, evicted: drained?.dropped,
      reservations_held_when_outage_ended: held, too_many_reservations_answers: tooMany.length,
      longest_retry_after_wait_ms: Math.max(0, ...tooMany.map((e) => Number(e.delay_ms ?? 0))),
      drained_after_outage_ms: drainedAfterMs, exit: code, retries: count("retry"), left_on_card: (await cardFiles(join(card, "queue"))).length,
    };
    console.log(`stranded camera: ${JSON.stringify(report)}`);

    expect(code).toBe(0); // drained (within its 300 s run time; before, it waited Retry-After of hours)
    expect(drained).toBeDefined();
    expect(drained!.dropped).toBeGreaterThan(0); // the card did fill: photos holding reservations were evicted
    expect(tooMany.length).toBeGreaterThan(0); // and the budget, full of their reservations, said so
    expect(new Set(frames).size).toBe(items.length); // exactly once
    expect(items.length + drained!.dropped).toBe(PHOTOS); // every photo is on the server or counted evicted
    expect(report.left_on_card).toBe(0);
    // A wait the budget asks for is at most one URL's life (with its signing margin), never a day.
    for (const e of tooMany) expect(Number(e.delay_ms)).toBeLessThanOrEqual((URL_TTL_S + SIGNING_MARGIN_S) * 1000);
  }, 600_000);
});
