// Simulated cameras for the OTA end-to-end tests: each runs as its power supply would (restarted
// after a reboot for an update, a crash at boot or a SIGKILL, until stopped), with its card, NVS,
// slots and boot state in its own folder. Waits are for rows and log lines, never for a time.
import { randomBytes } from "node:crypto";
import { join } from "node:path";

import { type CameraEvent, startSimCamera } from "../../scripts/sim/sim-camera.ts";
import { sql, stack } from "./stack.ts";

export const EXIT_REBOOT = 8;
export const EXIT_CRASH_AT_BOOT = 9;

/** A simulator image (firmware-config/host/sim_image.h): the header, then random bytes. */
export function simImage(version: string, boot: "ok" | "crash" | "silent", size: number): Uint8Array<ArrayBuffer> {
  const head = Buffer.from(`LIFELOG-SIM-IMAGE 1\nversion=${version}\nboot=${boot}\n`);
  const image = new Uint8Array(size);
  image.set(randomBytes(size));
  image.set(head, 0);
  return image;
}

export interface Cam {
  deviceId: string;
  dir: string;
  pairingCode: string;
  boots: CameraEvent[][];
  exits: Array<number | null>;
  stop: boolean;
  running: Promise<void>;
  kill?: () => void;
  onEvent?: (e: CameraEvent, cam: Cam) => void;
}

export function newCam(deviceId: string, pairingCode: string, dir: string): Cam {
  return { deviceId, dir, pairingCode, boots: [], exits: [], stop: false, running: Promise.resolve() };
}

export interface RunOptions {
  photos: number;
  intervalMs?: number;
  /** a new image without a good heartbeat in this long rolls back (the sim's --ota-confirm-ms) */
  confirmMs?: number;
}

/** Runs a camera until stopped; an exit other than a restart request, a crash at boot or a kill fails it. */
export function run(cam: Cam, releaseKeyHex: string, o: RunOptions) {
  cam.stop = false;
  cam.running = (async () => {
    while (!cam.stop) {
      const events: CameraEvent[] = [];
      cam.boots.push(events);
      const sim = startSimCamera({
        apiBase: stack.api_base, card: join(cam.dir, "card"), nvs: join(cam.dir, "nvs"), pairingCode: cam.pairingCode,
        intervalMs: o.intervalMs ?? 400, photos: o.photos, photoSize: 4_000,
        extraArgs: ["--ota-key", releaseKeyHex, "--heartbeat", "--heartbeat-max-ms", "400", "--heartbeat-gap-ms", "200",
          "--backoff-base-ms", "50", "--backoff-cap-ms", "400", "--max-runtime-ms", "170000",
          ...(o.confirmMs === undefined ? [] : ["--ota-confirm-ms", String(o.confirmMs)])],
        onEvent: (e) => {
          events.push(e);
          cam.onEvent?.(e, cam);
        },
      });
      cam.kill = () => sim.child.kill("SIGKILL");
      const code = await sim.exit;
      cam.exits.push(code);
      if (code !== null && code !== EXIT_REBOOT && code !== EXIT_CRASH_AT_BOOT) {
        throw new Error(`camera ${cam.deviceId} exited ${code}`);
      }
    }
  })();
}

export async function stopAll(cams: Cam[]) {
  for (const c of cams) {
    c.stop = true;
    c.kill?.();
  }
  await Promise.all(cams.map((c) => c.running));
}

export async function until(what: string, check: () => Promise<boolean>, cams: Cam[]) {
  for (;;) {
    if (await check()) return;
    // A camera that died for another reason ends the wait with its error.
    await Promise.race([new Promise((r) => setTimeout(r, 500)), ...cams.map((c) => c.running.then(() => {
      if (!c.stop) throw new Error(`camera ${c.deviceId} stopped while waiting for ${what}`);
    }))]);
  }
}

export async function versions(ids: string[]) {
  const rows = await sql`select device_id, firmware_version from public.device_status where device_id = any(${ids})`;
  return new Map(rows.map((r) => [r.device_id as string, r.firmware_version as string]));
}

export async function seqsOf(deviceId: string): Promise<number[]> {
  const rows = await sql`select device_seq from public.source_items where device_id = ${deviceId} order by device_seq`;
  return rows.map((r) => Number(r.device_seq));
}
