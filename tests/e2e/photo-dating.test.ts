// Every photo dated, NTP or not: a simulated camera whose clock is never set (no NTP on
// either boot) and which is killed after its first boot's first ingest. Its requests carry
// the boot and the uptime, so the server dates both boots by its own clock and every photo
// lands within the real time of the run, marked dated_by = server_clock.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildSimCamera, startSimCamera } from "../../scripts/sim/sim-camera.ts";
import { newUser, pairDevice, sql, stack } from "../support/stack.ts";
import { tempDir } from "../support/temp.ts";

beforeAll(async () => {
  await buildSimCamera();
}, 300_000);

const PHOTOS = 8;
const INTERVAL_MS = 200;

describe("photos of boots that never get NTP", () => {
  it("are dated by the server's clock from the boots' requests, across a kill", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token, "no-ntp camera");
    const dir = await tempDir("lifelog-dating-");
    const common = {
      apiBase: stack.api_base, card: join(dir, "card"), nvs: join(dir, "nvs"), intervalMs: INTERVAL_MS, photos: PHOTOS,
      photoSize: 6_000, extraArgs: ["--ntp-after-ms", "-1", "--clock-wait-ms", "0", "--max-runtime-ms", "60000"],
    };
    const started = Date.now();
    // Boot 1: killed once its first photo is ingested, with more captured behind it.
    let killed = false;
    const first = startSimCamera({
      ...common, pairingCode: paired.pairing_code,
      onEvent: (e) => {
        if (!killed && e.event === "ingested") {
          killed = true;
          first.child.kill("SIGKILL");
        }
      },
    });
    expect(await first.exit).toBeNull();
    // Boot 2 takes the rest and drains, its clock never set either.
    const second = startSimCamera({ ...common, exitWhenDrained: true });
    expect(await second.exit).toBe(0);
    const ended = Date.now();

    const items = await sql<{ captured_at: Date; ntp_synced: boolean; dated_by: string | null; boot: number; uptime: number }[]>`
      select captured_at, ntp_synced, metadata->>'dated_by' as dated_by, (metadata->>'boot_id')::int as boot,
             (metadata->>'uptime_ms')::bigint as uptime
        from public.source_items where device_id = ${paired.device_id} order by (metadata->>'boot_id')::int, captured_at`;
    expect(items.length).toBe(PHOTOS);
    expect(new Set(items.map((i) => i.boot)).size).toBe(2);
    for (const i of items) {
      expect(i.ntp_synced).toBe(false);
      expect(i.dated_by).toBe("server_clock");
      // Within the run's real time (the boot's start is known to within a request's one-way delay).
      expect(i.captured_at.getTime()).toBeGreaterThanOrEqual(started - 1_000);
      expect(i.captured_at.getTime()).toBeLessThanOrEqual(ended + 1_000);
    }
    const boots = await sql<{ boot_id: number; dated_by: string }[]>`
      select boot_id, dated_by from public.device_boots where device_id = ${paired.device_id} order by boot_id`;
    expect(boots.map((b) => b.dated_by)).toEqual(["server_clock", "server_clock"]);
    console.log(`photo dating: ${items.length} photos of ${boots.length} boots without NTP, all dated by the server's clock ` +
      `within the run (${((ended - started) / 1000).toFixed(1)} s)`);
  });
});
