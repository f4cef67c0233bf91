// The simulated camera (the firmware core on this machine) and the device lifecycle against
// the local stack: token rotation with the camera killed at each step and at random moments,
// revocation through the owner's route while the camera uploads, and the privacy pause and
// interval set through the CLI, with the delays measured.
import { createServer, request as httpRequest, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { buildSimCamera, type CameraEvent, type SimCameraRun, startSimCamera } from "../../scripts/sim/sim-camera.ts";
import { buildOnce, runCli } from "../cli/harness.ts";
import { recordsOnCard } from "../support/card.ts";
import { heartbeat, listDevices } from "../support/lifecycle.ts";
import { newUser, pairDevice, sql, stack } from "../support/stack.ts";
import { tempDir } from "../support/temp.ts";

beforeAll(async () => {
  await Promise.all([buildSimCamera(), buildOnce()]);
}, 300_000);

async function nvsValues(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, "utf8");
  return Object.fromEntries(text.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("\t")), l.slice(l.indexOf("\t") + 1)]));
}

async function itemCount(deviceId: string): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from public.source_items where device_id = ${deviceId}`;
  return n;
}

interface CameraSetup {
  apiBase?: string;
  card: string;
  nvs: string;
  pairingCode?: string;
  photos?: number;
  intervalMs?: number;
  exitWhenDrained?: boolean;
  extra?: string[];
  onEvent?: (e: CameraEvent) => void;
}

function camera(s: CameraSetup): SimCameraRun {
  return startSimCamera({
    apiBase: s.apiBase ?? stack.api_base, card: s.card, nvs: s.nvs, pairingCode: s.pairingCode,
    intervalMs: s.intervalMs ?? 150, photos: s.photos, exitWhenDrained: s.exitWhenDrained ?? true, photoSize: 8_000,
    extraArgs: ["--heartbeat", "--heartbeat-max-ms", "300", "--heartbeat-gap-ms", "200", "--backoff-base-ms", "50",
      "--backoff-cap-ms", "400", "--max-runtime-ms", "45000", ...(s.extra ?? [])],
    onEvent: s.onEvent,
  });
}

/** A paired camera that has run once (2 photos) and holds its first token T0. */
async function firstRun() {
  const user = await newUser();
  const paired = await pairDevice(user.token, "rotating camera");
  const dir = await tempDir("lifelog-rotation-");
  const card = join(dir, "card");
  const nvs = join(dir, "nvs");
  const run = camera({ card, nvs, pairingCode: paired.pairing_code, photos: 2 });
  expect(await run.exit).toBe(0);
  return { user, deviceId: paired.device_id, card, nvs, t0: (await nvsValues(nvs)).device_token };
}

async function serverTokenState(deviceId: string) {
  const [row] = await sql`select pending_token_hash is not null as pending,
      (select count(*)::int from public.device_retired_tokens r where r.device_id = d.id) as retired
      from public.devices d where d.id = ${deviceId}`;
  return row as { pending: boolean; retired: number };
}

describe("token rotation with power cuts (simulated camera, SIGKILL)", () => {
  // What each cut leaves behind: on the card's NVS and on the server.
  const CUTS: Array<[string, (nvs: Record<string, string>, t0: string, server: { pending: boolean; retired: number }) => void]> = [
    ["before:token_next", (nvs, t0, server) => { // the rotate answer arrived and was lost with the power
      expect(nvs.token_next).toBeUndefined();
      expect(nvs.device_token).toBe(t0);
      expect(server).toEqual({ pending: true, retired: 0 });
    }],
    ["after:token_next", (nvs, t0, server) => { // both tokens in NVS, the new one never used
      expect(nvs.token_next).toMatch(/^devtok_/);
      expect(nvs.device_token).toBe(t0);
      expect(server).toEqual({ pending: true, retired: 0 });
    }],
    ["before:device_token", (nvs, t0, server) => { // the server took the new token; NVS still holds both
      expect(nvs.token_next).toMatch(/^devtok_/);
      expect(nvs.device_token).toBe(t0);
      expect(server).toEqual({ pending: false, retired: 1 });
    }],
    ["after:device_token", (nvs, _t0, server) => { // promoted on both sides, the successor not yet erased
      expect(nvs.device_token).toBe(nvs.token_next);
      expect(server).toEqual({ pending: false, retired: 1 });
    }],
  ];

  it.each(CUTS)("a cut %s leaves a working token and the rotation completes after the reboot", async (point, check) => {
    const cam = await firstRun();
    const cut = camera({ card: cam.card, nvs: cam.nvs, photos: 4, extra: ["--rotate-now", "--crash-at", point] });
    expect(await cut.exit).toBeNull();
    expect(cut.child.signalCode).toBe("SIGKILL");
    check(await nvsValues(cam.nvs), cam.t0, await serverTokenState(cam.deviceId));

    const after = camera({ card: cam.card, nvs: cam.nvs, photos: 4, extra: ["--rotate-now"] });
    expect(await after.exit).toBe(0);
    expect(after.events.filter((e) => e.event === "token_dead" || e.event === "heartbeat_refused")).toEqual([]);
    const nvs = await nvsValues(cam.nvs);
    expect(nvs.token_next).toBeUndefined();
    expect(nvs.device_token).not.toBe(cam.t0);
    expect((await heartbeat(nvs.device_token)).status).toBe(200);
    const old = await heartbeat(cam.t0);
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ error: { code: "token_rotated" } });
    expect(await itemCount(cam.deviceId)).toBe(4);
    expect(await recordsOnCard(cam.card)).toEqual([]);
  }, 90_000);

  it("random kills while rotating leave the camera working, every photo delivered once", async () => {
    const cam = await firstRun();
    const PHOTOS = 14;
    let kills = 0;
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const events: CameraEvent[] = [];
    for (let i = 0; i < 6; i++) {
      const run = camera({ card: cam.card, nvs: cam.nvs, photos: PHOTOS, intervalMs: 300, extra: ["--rotate-now"] });
      await new Promise((r) => setTimeout(r, 150 + random() * 700));
      if (run.child.exitCode === null) {
        run.child.kill("SIGKILL");
        kills++;
      }
      await run.exit;
      events.push(...run.events);
    }
    const last = camera({ card: cam.card, nvs: cam.nvs, photos: PHOTOS });
    expect(await last.exit).toBe(0);
    events.push(...last.events);
    const nvs = await nvsValues(cam.nvs);
    const state = await serverTokenState(cam.deviceId);
    const count = (name: string) => events.filter((e) => e.event === name).length;
    console.log(`rotation under kills: ${JSON.stringify({ kills, rotations_issued: count("rotation_issued"),
      rotations_proven: count("rotation_proven"), fallbacks: count("token_fallback"), retired_tokens: state.retired,
      items: await itemCount(cam.deviceId),
      frames: (await sql`select (metadata->>'frame')::int as f, device_seq as s from public.source_items
        where device_id = ${cam.deviceId} order by device_seq`).map((r) => `${r.f}@${r.s}`).join(" ") })}`);
    // GET /devices counts what the database holds after the session, and the camera's last report
    const [listed] = (await listDevices(cam.user.token)).body.devices;
    expect(listed.items).toEqual({ today: PHOTOS, total: PHOTOS });
    expect(listed.status).toMatchObject({ queue_depth: 0, quarantined: 0, firmware_version: "0.4.0" });
    expect(kills).toBeGreaterThanOrEqual(4);
    expect(events.filter((e) => e.event === "token_dead" || e.event === "heartbeat_refused")).toEqual([]);
    expect(nvs.token_next).toBeUndefined();
    expect((await heartbeat(nvs.device_token)).status).toBe(200);
    expect((await heartbeat(cam.t0)).body).toMatchObject({ error: { code: "token_rotated" } });
    expect(state.retired).toBeGreaterThanOrEqual(1);
    const [{ seqs, items }] = await sql`select count(distinct device_seq)::int as seqs, count(*)::int as items
      from public.source_items where device_id = ${cam.deviceId}`;
    expect({ seqs, items }).toEqual({ seqs: PHOTOS, items: PHOTOS });
  }, 120_000);
});

interface Logged {
  start: number;
  end: number;
  path: string;
  status: number;
  code?: string;
  accepted: number;
}

/** A pass-through proxy that logs when each request started and ended and how it was answered. */
async function recordingProxy(target: string): Promise<{ url: string; log: Logged[]; stop(): Promise<void> }> {
  const upstream = new URL(target);
  const log: Logged[] = [];
  const server: Server = createServer((req, res) => {
    const start = performance.now();
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () => {
        const body = Buffer.concat(chunks);
        let code: string | undefined;
        let accepted = 0; // photos this answer accepted: an ingest, or an ingest-batch's items
        try {
          const json = JSON.parse(body.toString("utf8"));
          code = json?.error?.code;
          if (req.url?.endsWith("/ingest") && (answer.statusCode ?? 500) < 300) accepted = 1;
          if (req.url?.endsWith("/ingest-batch") && Array.isArray(json?.results)) {
            accepted = json.results.filter((r: { status: number }) => r.status < 300).length;
          }
        } catch { /* not JSON */ }
        log.push({ start, end: performance.now(), path: req.url ?? "", status: answer.statusCode ?? 0, code, accepted });
        res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
      });
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, log, stop: () => new Promise((r) => server.close(() => r())) };
}

describe("revocation while the camera uploads", () => {
  it("every request after the revoke commit is refused, and the camera keeps its remaining photos", async () => {
    const proxy = await recordingProxy(stack.supabase_url);
    try {
      const user = await newUser();
      const paired = await pairDevice(user.token, "revoked under load");
      const dir = await tempDir("lifelog-revoke-");
      const card = join(dir, "card");
      const nvs = join(dir, "nvs");
      let ingested = 0;
      let revoke: Promise<number> | undefined;
      const run = camera({
        apiBase: `${proxy.url}/functions/v1`, card, nvs, pairingCode: paired.pairing_code,
        // captures outpace uploads, so a backlog waits on the card when the revoke lands; the
        // first 1.5 s offline make that backlog whatever the machine's speed (batches follow)
        photos: 150, intervalMs: 25, extra: ["--offline-ms", "1500"],
        onEvent: (e) => {
          if (e.event === "ingested" && ++ingested === 15) {
            // Through the same proxy: the end of its answer there is after the commit.
            revoke = fetch(`${proxy.url}/functions/v1/devices/${paired.device_id}/revoke`, {
              method: "POST", headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" }, body: "{}",
            }).then((r) => r.status);
          }
        },
      });
      expect(await run.exit).toBe(3);
      expect(await revoke).toBe(200);
      const keptAtStop = await recordsOnCard(card);
      // Restarted, the camera still has photos to send: every one of its requests comes after the commit.
      const restartedAt = performance.now(); // the proxy log's clock
      const restarted = camera({ apiBase: `${proxy.url}/functions/v1`, card, nvs, photos: 150, intervalMs: 25 });
      expect(await restarted.exit).toBe(3);

      const revokeAnswered = proxy.log.find((r) => r.path.endsWith("/revoke"))!;
      const deviceRequests = proxy.log.filter((r) => r !== revokeAnswered && r.path.startsWith("/functions/v1/devices/"));
      const after = deviceRequests.filter((r) => r.start > revokeAnswered.end);
      const refused = deviceRequests.filter((r) => r.status === 401);
      const accepted = deviceRequests.reduce((n, r) => n + r.accepted, 0);
      const items = await itemCount(paired.device_id);
      const kept = await recordsOnCard(card);
      const captured = [...run.events, ...restarted.events].filter((e) => e.event === "captured").length;
      console.log(`revocation under load: ${JSON.stringify({ requests: deviceRequests.length,
        accepted: deviceRequests.filter((r) => r.status < 300).length, refused: refused.length,
        requests_after_the_revoke_answer: after.length, items_on_server: items, photos_kept_on_card: kept.length, captured })}`);

      expect(accepted).toBeGreaterThanOrEqual(15); // the revoke came after the 15th ingested photo
      // ...and the camera drained its backlog in batches (the offline start left one on the card)
      expect(deviceRequests.some((r) => r.path.endsWith("/ingest-batch") && r.accepted > 1)).toBe(true);
      // Refusals start once the revoke is under way, and every request after its commit is one.
      expect(refused.every((r) => r.end > revokeAnswered.start)).toBe(true);
      expect(refused.map((r) => r.code)).toEqual(refused.map(() => "token_revoked"));
      // The restarted camera tried (at least once: it stops at its first refusal); whether the
      // first run's last request also came after the commit depends on the machine's speed.
      expect(after.filter((r) => r.start >= restartedAt).length).toBeGreaterThanOrEqual(1);
      expect(after.every((r) => r.status === 401 && r.code === "token_revoked")).toBe(true);
      expect(deviceRequests.filter((r) => r.status !== 401 && r.status >= 300)).toEqual([]);
      // Nothing accepted is lost, nothing refused is dropped from the card.
      expect(items).toBe(accepted);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept).toEqual(expect.arrayContaining(keptAtStop)); // the restart only added new captures
      expect(items + kept.length).toBe(captured);
      expect(run.events.at(-1)?.event).toBe("token_dead");
    } finally {
      await proxy.stop();
    }
  }, 90_000);
});

describe("privacy pause and interval through the CLI", () => {
  it("the camera's next heartbeat sees each change; delays measured", async () => {
    const home = await tempDir("lifelog-cli-home-");
    const env = { LIFELOG_CONFIG_DIR: home };
    const login = await runCli(["login", "--url", stack.supabase_url, "--email", stack.user.email, "--password-stdin"], { env, stdin: stack.user_password });
    expect(login.code, login.stderr).toBe(0);
    const paired = await pairDevice(stack.user_access_token, `pause-e2e-${Date.now()}`);
    const dir = await tempDir("lifelog-pause-");
    const HEARTBEAT_MAX_MS = 1000;
    // `at`: when this process read the line (performance.now); `wall`: the same as wall time,
    // comparable with the commit time of each change (devices.settings_updated_at, same machine)
    const seen: Array<CameraEvent & { at: number; wall: number }> = [];
    const run = startSimCamera({
      apiBase: stack.api_base, card: join(dir, "card"), nvs: join(dir, "nvs"), pairingCode: paired.pairing_code,
      intervalMs: 400, photoSize: 8_000,
      extraArgs: ["--heartbeat", "--heartbeat-max-ms", String(HEARTBEAT_MAX_MS), "--max-runtime-ms", "80000"],
      onEvent: (e) => seen.push({ ...e, at: performance.now(), wall: Date.now() }),
    });
    const waitFor = async (pred: (e: CameraEvent & { at: number; wall: number }) => boolean, after: number, what: string) => {
      for (;;) {
        const hit = seen.find((e) => e.at > after && pred(e));
        if (hit) return hit;
        if (run.child.exitCode !== null) throw new Error(`camera exited before ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    // Runs the command; returns when it started (the camera may see the change before the
    // command has exited) and when the change was committed.
    const cli = async (...args: string[]) => {
      const started = performance.now();
      const r = await runCli(args, { env });
      expect(r.code, r.stderr).toBe(0);
      const [{ committed }] = await sql`select settings_updated_at as committed from public.devices where id = ${paired.device_id}`;
      return { started, committed: (committed as Date).getTime() };
    };
    try {
      await waitFor((e) => e.event === "captured" && e.frame === 2, 0, "three photos");

      const paused = await cli("pause", paired.device_id);
      const sawPause = await waitFor((e) => e.event === "settings_changed" && e.paused === true, paused.started, "the pause");
      const indicator = await waitFor((e) => e.event === "privacy_indicator" && e.paused === true, paused.started, "the indicator");
      await new Promise((r) => setTimeout(r, 3000));
      const capturedWhilePaused = seen.filter((e) => e.event === "captured" && e.at > sawPause.at);

      const resumed = await cli("resume", paired.device_id);
      const sawResume = await waitFor((e) => e.event === "settings_changed" && e.paused === false, resumed.started, "the resume");
      const firstAfterResume = await waitFor((e) => e.event === "captured", sawResume.at - 1, "a photo after resuming");

      const interval = await cli("settings", paired.device_id, "--interval", "5");
      const sawInterval = await waitFor((e) => e.event === "settings_changed" && e.interval_s === 5, interval.started, "the interval");
      const a = await waitFor((e) => e.event === "captured", sawInterval.at, "a photo at 5 s");
      const b = await waitFor((e) => e.event === "captured", a.at, "the next photo");
      const c = await waitFor((e) => e.event === "captured", b.at, "the one after");
      const gaps = [b.t_ms - a.t_ms, c.t_ms - b.t_ms];

      // From the commit of each change to the camera's line saying it obeys it.
      const timings = {
        pause_seen_ms: sawPause.wall - paused.committed,
        photos_while_paused_3s: capturedWhilePaused.length,
        resume_seen_ms: sawResume.wall - resumed.committed,
        first_photo_after_resume_ms: firstAfterResume.wall - resumed.committed,
        interval_seen_ms: sawInterval.wall - interval.committed,
        capture_gaps_at_5s_ms: gaps,
      };
      console.log(`pause end to end: ${JSON.stringify(timings)}`);
      // The camera calls at least every HEARTBEAT_MAX_MS; a change is seen within one call (plus its round trip).
      for (const seenMs of [timings.pause_seen_ms, timings.resume_seen_ms, timings.interval_seen_ms]) {
        expect(seenMs).toBeGreaterThanOrEqual(0);
        expect(seenMs).toBeLessThan(HEARTBEAT_MAX_MS + 1500);
      }
      // Shown in the same step: the two events are neighbours (no capture or request between them;
      // their times differ by an NVS write, which a loaded machine can stretch).
      expect(Math.abs(seen.indexOf(indicator) - seen.indexOf(sawPause))).toBe(1);
      expect(capturedWhilePaused).toEqual([]);
      for (const gap of gaps) expect(Math.abs(gap - 5000)).toBeLessThan(600); // the loop naps up to 250 ms
    } finally {
      run.child.kill("SIGKILL");
      await run.exit;
    }
    // What the owner's list says equals what the database holds after the session.
    const listed = await runCli(["devices", "--json"], { env });
    const mine = (JSON.parse(listed.stdout) as Array<{ id: string; items: { today: number; total: number } }>).find((d) => d.id === paired.device_id)!;
    const total = await itemCount(paired.device_id);
    expect(total).toBeGreaterThan(3);
    expect(mine.items).toEqual({ today: total, total });
  }, 120_000);
});

