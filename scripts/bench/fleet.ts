// `npm run bench:fleet`: many simulated cameras (the firmware core built for this machine,
// firmware-config/host/sim_camera_main.cpp), each its own process, card and NVS, paired to a
// few accounts, drain their offline backlogs into one local stack at once. A benchmark: it
// prints figures and checks the fleet goals (PASS/FAIL), beside a floor measured in the same
// run (the same photos as batched durable inserts plus presigns, through the function's own
// driver and pool: baseline-host.ts /reserve-floor and /ingest-floor).
//
// Per fleet size N and link: N new devices; each camera captures its backlog offline on the
// simulated clock and stops where the network would come (as bench:drain); then all N start
// again on their cards, online, within `--window-ms` (0: the same instant, a thundering herd;
// otherwise evenly spread), and drain. Cameras reach the stack through one link proxy, API and
// storage on one host as on a hosted project, each TCP connection on a link of its own (a
// camera keeps one connection, so its own Wi-Fi: `direct` passes bytes through, `slow` is
// --rtt/--mbit per connection); it counts API calls, PUTs and TCP connections. The server's CPU is read from /proc (the function's
// Deno process, all of Postgres), its statements, transactions and WAL flushes from Postgres,
// each route's latency from the function's own line per request.
//
// Exactly once, where the camera cannot flatter itself: every `captured` event (seq, SHA-256)
// is one item in Postgres with that SHA-256, one job, and one stored object with those bytes;
// after the sweeper the bucket holds no object that no item names.
//
//   npm run bench:fleet -- [--n 1,10,50,200] [--photos 40] [--window-ms 0] [--links direct,slow]
//                          [--cameras-per-account 5] [--rtt 100] [--mbit 5] [--json out.json]
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { loadConfig } from "../../functions/_shared/config.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { sweepUploads } from "../../functions/_shared/storage/sweep.ts";
import { buildSimCamera, type CameraEvent, type SimCameraRun, startSimCamera, syntheticFrame, syntheticFrameSize } from "../sim/sim-camera.ts";
import { createLocalUser } from "../stack/auth.ts";
import { createLink, startSlowLinkProxy } from "../stack/slow-link.ts";
import { STORAGE_S3_PREFIX, startStack } from "../stack/stack.ts";
import { keptAliveClient as client } from "./kept-alive-client.ts";
import { cpuMs, dbCounters, POSTGRES_INSTRUMENT, postgresCpuMs, postmasterPid, startBaselineHost } from "./server-counters.ts";
import { storeFiles } from "../stack/object-store.ts";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "1,10,50,200" },
    photos: { type: "string", default: "40" },
    "window-ms": { type: "string", default: "0" },
    links: { type: "string", default: "direct,slow" },
    "cameras-per-account": { type: "string", default: "5" },
    "photo-size": { type: "string", default: "40000" },
    "photo-size-max": { type: "string", default: "80000" },
    rtt: { type: "string", default: "100" },
    mbit: { type: "string", default: "5" },
    /** offline captures run this many at a time (they are set-up, not measured) */
    "capture-parallel": { type: "string", default: "4" },
    /** a camera not drained by then exits 6 and counts as having given up (default: 5 s a photo + 15 min) */
    "camera-max-runtime-ms": { type: "string" },
    "first-contact-spread-ms": { type: "string" },
    json: { type: "string" },
  },
});
const SIZES = args.n!.split(",").map(Number);
const PHOTOS = Number(args.photos);
const WINDOW_MS = Number(args["window-ms"]);
const PER_ACCOUNT = Number(args["cameras-per-account"]);
const INTERVAL_MS = 30_000;
const OFFLINE_MS = PHOTOS * INTERVAL_MS;
const BATCH = 32; // the batch routes' limit, as the camera uses them

type Counts = Record<string, number>;
const bump = (c: Counts, k: string, by = 1) => { c[k] = (c[k] ?? 0) + by; };
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** nearest-rank percentile */
function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "—");

/** Runs `work` over `items`, `parallel` at a time. */
async function pool<T, R>(items: T[], parallel: number, work: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i], i);
    }
  }));
  return out;
}

/** Every object s3rver holds in the bucket, key → its file (s3rver keeps `<key>._S3rver_object`). */
async function storedObjects(bucketDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const p of storeFiles(bucketDir)) {
    if (p.endsWith("._S3rver_object")) out.set(p.slice(bucketDir.length + 1, -"._S3rver_object".length), p);
  }
  return out;
}

interface RouteLine { route: string; status: number; ms: number }

/** The floors' requests are retried as a camera would (the stand-in store can time out under a
 *  herd); the retries are counted, so a floor that needed them says so. */
async function withRetries<T>(what: string, retries: { n: number }, attempt: () => Promise<{ ok: boolean; status: number; value: T }>): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await attempt().catch((e) => ({ ok: false, status: 0, value: String(e) as T }));
    if (r.ok) return r.value;
    if (i === 5) throw new Error(`${what}: ${r.status} after ${i} retries`);
    retries.n++;
    await new Promise((res) => setTimeout(res, 500 * 2 ** i * Math.random()));
  }
}

async function main() {
  const routeLines: RouteLine[] = [];
  const log = (l: string) => {
    if (l.startsWith("devices: {")) {
      try { routeLines.push(JSON.parse(l.slice("devices: ".length))); } catch { /* not a request line */ }
      return;
    }
    if (!l.startsWith("devices: ")) process.stderr.write(`${l}\n`);
  };
  await buildSimCamera();
  let supabaseUrl = "";
  let plan = { rttMs: 0, bitsPerSecond: Infinity };
  const proxy = await startSlowLinkProxy({ upstream: () => supabaseUrl, link: () => createLink(plan) });
  const stack = await startStack({
    ports: "random",
    workDir: await mkdtemp(join(tmpdir(), "lifelog-fleet-")),
    storageOnGateway: true,
    instrumentPostgres: POSTGRES_INSTRUMENT,
    // Pairing is set-up, not the drain: its per-account hourly limit would stop a big fleet
    // before it starts. The request limits stay as deployed (300/min a device, 1,200 an account).
    functionEnv: { DEVICE_PAIRINGS_PER_HOUR: "100000", S3_PUBLIC_ENDPOINT: proxy.url + STORAGE_S3_PREFIX },
    log,
  });
  supabaseUrl = stack.info.supabase_url;
  const admin = postgres(stack.info.db_url, { max: 1, onnotice: () => {} });
  const pids = { fn: stack.fn.pid, postmaster: await postmasterPid(stack) };
  const config = loadConfig(stack.fn.env);
  const bucketDir = join(stack.workDir, "objects", stack.info.storage.bucket);
  const scratch = await mkdtemp(join(tmpdir(), "lifelog-fleet-cards-"));
  await admin`create schema if not exists bench`;
  await admin`create table bench.durable_writes (id bigint generated always as identity primary key,
                                                  at timestamptz not null default now())`;
  // The baseline host presigns; it HEADs only on routes the fleet does not use.
  const baseline = await startBaselineHost(stack, "unused", { BENCH_PUT_ENDPOINT: proxy.url + STORAGE_S3_PREFIX });
  const storageDriver = createStorageDriver(config);
  const rows: any[] = [];
  try {
    for (const linkName of args.links!.split(",")) {
      plan = linkName === "slow" ? { rttMs: Number(args.rtt), bitsPerSecond: Number(args.mbit) * 1e6 } : { rttMs: 0, bitsPerSecond: Infinity };
      const linkLabel = linkName === "slow" ? `${plan.rttMs} ms, ${args.mbit} Mbit/s each` : "direct";
      for (const N of SIZES) {
        log(`fleet: N=${N}, ${linkLabel}: pairing and capturing ${N} × ${PHOTOS} photos offline…`);
        // Accounts of PER_ACCOUNT cameras (a family, a small study's group).
        const accounts = await Promise.all(Array.from({ length: Math.ceil(N / PER_ACCOUNT) }, () =>
          createLocalUser(admin, stack.authKey, `fleet-${randomUUID().slice(0, 8)}@lifelog.local`)));
        const devices = await pool(Array.from({ length: N }, (_, i) => i), 8, async (i) => {
          const res = await fetch(`${stack.fn.url}/devices/pair`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${accounts[Math.floor(i / PER_ACCOUNT)].accessToken}` },
            body: JSON.stringify({ name: `fleet ${i}` }),
          });
          const body = await res.json() as { device_id: string; pairing_code: string };
          if (res.status !== 201) throw new Error(`pair: ${res.status} ${JSON.stringify(body)}`);
          return { id: body.device_id, code: body.pairing_code };
        });
        const cams = devices.map((d, i) => {
          const dir = join(scratch, `${linkName}-${N}-${i}`);
          return {
            device: d, dir, seed: i + 1, // each camera its own jitter, as esp_random gives the board
            opts: { apiBase: `${proxy.url}/functions/v1`, card: join(dir, "card"), nvs: join(dir, "nvs"), intervalMs: INTERVAL_MS,
              photos: PHOTOS, photoSize: Number(args["photo-size"]), photoSizeMax: Number(args["photo-size-max"]) },
          };
        });
        // 1. Offline: every capture, no upload.
        const captured = await pool(cams, Number(args["capture-parallel"]), async (c) => {
          await mkdir(c.dir, { recursive: true });
          const run = startSimCamera({ ...c.opts, pairingCode: c.device.code,
            extraArgs: ["--seed", String(c.seed), "--sim-clock", "--offline-ms", String(OFFLINE_MS), "--max-runtime-ms", String(OFFLINE_MS)] });
          const exit = await run.exit;
          const shots = run.events.filter((e) => e.event === "captured");
          if (exit !== 6 || shots.length !== PHOTOS) throw new Error(`offline capture: exit ${exit}, ${shots.length} captured`);
          return shots.map((e) => ({ seq: Number(e.seq), sha256: String(e.sha256) }));
        });

        // 2. Online within the window: the drain.
        const before = await dbCounters(admin, pids);
        const lineMark = routeLines.length;
        const connMark = proxy.stats.connections;
        const requestMark = proxy.stats.requests.length;
        const nodeCpu0 = process.cpuUsage();
        log(`fleet: N=${N}, ${linkLabel}: ${N} cameras online within ${WINDOW_MS} ms…`);
        const t0 = performance.now();
        const times = cams.map(() => ({ boot: 0, drained: 0 }));
        const runs: SimCameraRun[] = [];
        await Promise.all(cams.map(async (c, i) => {
          const offset = N > 1 ? (WINDOW_MS * i) / (N - 1) : 0;
          if (offset) await new Promise((r) => setTimeout(r, offset));
          const run = startSimCamera({ ...c.opts, exitWhenDrained: true,
            extraArgs: ["--seed", String(c.seed), "--first-contact-spread-ms", args["first-contact-spread-ms"] ?? "30000", "--max-runtime-ms", args["camera-max-runtime-ms"] ?? String(PHOTOS * 5_000 + 900_000)],
            onEvent: (e: CameraEvent) => {
              if (e.event === "boot") times[i].boot = performance.now();
              if (e.event === "drained") times[i].drained = performance.now();
            } });
          runs[i] = run;
        }));
        const exits = await Promise.all(runs.map((r) => r.exit));
        const wallMs = Math.max(...times.map((t) => t.drained)) - t0;
        const nodeCpu = process.cpuUsage(nodeCpu0);
        const after = await dbCounters(admin, pids);
        const lines = routeLines.slice(lineMark);

        // What the cameras sent, as their links saw it.
        const api: Counts = {};
        const storage: Counts = {};
        const connections = proxy.stats.connections - connMark;
        for (const r of proxy.stats.requests.slice(requestMark)) {
          const fn = /^\/functions\/v1\/devices\/(.+)$/.exec(r.path);
          if (fn) bump(api, fn[1]);
          else if (r.path.startsWith(`${STORAGE_S3_PREFIX}/`)) bump(storage, r.method);
        }
        const retries = runs.flatMap((r) => r.events.filter((e) => e.event === "retry"));
        const retryKinds: Counts = {};
        for (const e of retries) bump(retryKinds, `${e.step} ${e.status} ${e.code}`);
        const waits429 = retries.filter((e) => e.status === 429).map((e) => Number(e.delay_ms));
        const gaveUp = runs.filter((r, i) => exits[i] !== 0 || !times[i].drained).length;
        const exitCodes: Counts = {};
        for (const e of exits) bump(exitCodes, String(e));
        const resets = runs.filter((r) => r.events.some((e) => e.event === "watchdog_reset" || e.event === "timeout")).length;
        const serverStatus: Counts = {};
        for (const l of lines) bump(serverStatus, String(l.status));

        // 3. Exactly once, then the sweeper, then no orphans.
        const ids = devices.map((d) => d.id);
        const items = await admin<{ device_id: string; device_seq: string; object_key: string; sha256: string; jobs: number }[]>`
          select i.device_id, i.device_seq::text, i.storage_key as object_key, i.metadata->>'sha256' as sha256,
                 (select count(*)::int from public.processing_jobs j where j.item_id = i.id) as jobs
            from public.source_items i where i.device_id = any(${ids}::uuid[])`;
        await sweepUploads(admin as any, storageDriver, { ttlSeconds: config.reservationTtlSeconds });
        const objects = await storedObjects(bucketDir);
        const problems: string[] = [];
        const byDevice = new Map<string, (typeof items)[number][]>();
        for (const it of items) byDevice.set(it.device_id, [...(byDevice.get(it.device_id) ?? []), it]);
        let bytesChecked = 0;
        for (const [i, c] of cams.entries()) {
          const mine = byDevice.get(c.device.id) ?? [];
          if (mine.length !== captured[i].length) problems.push(`camera ${i}: ${mine.length} items for ${captured[i].length} captures`);
          for (const shot of captured[i]) {
            const hits = mine.filter((it) => Number(it.device_seq) === shot.seq);
            if (hits.length !== 1) { problems.push(`camera ${i} seq ${shot.seq}: ${hits.length} items`); continue; }
            const [it] = hits;
            if (it.sha256 !== shot.sha256) problems.push(`camera ${i} seq ${shot.seq}: metadata sha256 differs`);
            if (it.jobs !== 1) problems.push(`camera ${i} seq ${shot.seq}: ${it.jobs} jobs`);
            const file = objects.get(it.object_key);
            if (!file) { problems.push(`camera ${i} seq ${shot.seq}: no stored object`); continue; }
            const stored = createHash("sha256").update(await readFile(file)).digest("hex");
            bytesChecked++;
            if (stored !== shot.sha256) problems.push(`camera ${i} seq ${shot.seq}: stored bytes differ`);
          }
        }
        const [{ keys }] = await admin<{ keys: string[] }[]>`select coalesce(array_agg(storage_key), '{}') as keys from public.source_items`;
        const named = new Set(keys);
        const orphans = [...objects.keys()].filter((k) => !named.has(k)).length;
        if (orphans) problems.push(`${orphans} orphan objects after the sweeper`);

        // 4. The floor, same run, same photos, same concurrency: per camera, per batch of 32, one
        // flushed insert with its presigns and one flushed insert (what upload-urls and
        // ingest-batch cannot avoid), through the baseline host (the function's driver and pool).
        const floorBefore = { fn: await cpuMs(baseline.pid), pg: await postgresCpuMs(pids.postmaster) };
        const floorRetries = { n: 0 };
        const f0 = performance.now();
        await Promise.all(cams.map(async () => {
          for (let done = 0; done < PHOTOS; done += BATCH) {
            const n = Math.min(BATCH, PHOTOS - done);
            for (const route of ["reserve-floor", "ingest-floor"]) {
              await withRetries(`floor ${route}`, floorRetries, async () => {
                const r = await fetch(`${baseline.url}/${route}?n=${n}`);
                await r.body?.cancel();
                return { ok: r.status === 200, status: r.status, value: null };
              });
            }
          }
        }));
        const floorMs = performance.now() - f0;
        const floorCpu = { fn: (await cpuMs(baseline.pid)) - floorBefore.fn, pg: (await postgresCpuMs(pids.postmaster)) - floorBefore.pg };

        // 5. The same floor with the photos' bytes PUT to its presigned URLs, each camera's over
        // one kept-alive connection through the same link proxy, gateway and store as the
        // cameras', and each object read back once before its ingest as the s3 driver verifies
        // it: all the work a drain cannot avoid on this stack (s3rver and its gate are stand-ins).
        const floorKeys: string[] = [];
        const putFloorRetries = { n: 0 };
        const p0 = performance.now();
        await Promise.all(cams.map(async (c) => {
          const http = client();
          try {
            for (let done = 0; done < PHOTOS; done += BATCH) {
              const n = Math.min(BATCH, PHOTOS - done);
              const { keys, urls } = await withRetries("floor reserve", putFloorRetries, async () => {
                const r = await http.send(`${baseline.url}/reserve-floor?n=${n}`, "GET", {}, new Uint8Array());
                return { ok: r.status === 200, status: r.status, value: r.body as { keys: string[]; urls: string[] } };
              });
              floorKeys.push(...keys);
              const puts = client();
              for (const [k, url] of urls.entries()) {
                const frame = done + k;
                const bytes = syntheticFrame(c.seed, frame, syntheticFrameSize(frame, c.opts.photoSize, c.opts.photoSizeMax));
                await withRetries("floor PUT", putFloorRetries, async () => {
                  const put = await puts.send(url, "PUT", { "content-type": "image/jpeg" }, bytes);
                  return { ok: put.status === 200, status: put.status, value: null };
                });
              }
              puts.close();
              await withRetries("floor ingest", putFloorRetries, async () => {
                const i = await http.send(`${baseline.url}/ingest-floor?n=${n}`, "POST", { "content-type": "application/json" },
                  new TextEncoder().encode(JSON.stringify(keys)));
                return { ok: i.status === 200, status: i.status, value: null };
              });
            }
          } finally {
            http.close();
          }
        }));
        const putFloorMs = performance.now() - p0;
        for (const k of floorKeys) await storageDriver.deleteObject(k);

        const photos = N * PHOTOS;
        const drainTimes = times.map((t) => (t.drained - t.boot) / 1000);
        const routes: Record<string, { n: number; p50: number; p99: number }> = {};
        for (const name of new Set(lines.map((l) => l.route))) {
          const ms = lines.filter((l) => l.route === name).map((l) => l.ms);
          routes[name] = { n: ms.length, p50: pct(ms, 50), p99: pct(ms, 99) };
        }
        const row = {
          link: linkLabel, n: N, window_ms: WINDOW_MS, photos, accounts: accounts.length,
          wall_s: wallMs / 1000,
          photos_per_s: photos / (wallMs / 1000),
          floor_photos_per_s: photos / (floorMs / 1000),
          put_floor_photos_per_s: photos / (putFloorMs / 1000),
          floor_retries: { floor: floorRetries.n, put_floor: putFloorRetries.n },
          drain_s: { median: pct(drainTimes, 50), p95: pct(drainTimes, 95), max: Math.max(...drainTimes) },
          api_calls_per_photo: sum(Object.values(api)) / photos,
          api_requests: api,
          puts_per_photo: (storage.PUT ?? 0) / photos,
          connections_per_photo: connections / photos,
          retries: retryKinds,
          retry_after_429: { count: waits429.length, median_ms: pct(waits429, 50), max_ms: waits429.length ? Math.max(...waits429) : 0 },
          server_statuses: serverStatus,
          gave_up: gaveUp,
          camera_exit_codes: exitCodes,
          resets_or_timeouts: resets,
          cpu_ms_per_photo: { deno: (after.fnCpuMs - before.fnCpuMs) / photos, postgres: (after.pgCpuMs - before.pgCpuMs) / photos },
          // this process: the stack's gateway, SigV4 gate and s3rver (the storage path every PUT
          // takes), the link proxy and the cameras' event parsing; not a hosted project's cost
          bench_node_cpu_ms_per_photo: (nodeCpu.user + nodeCpu.system) / 1000 / photos,
          floor_cpu_ms_per_photo: { deno: floorCpu.fn / photos, postgres: floorCpu.pg / photos },
          per_photo: {
            wal_syncs: (after.walSyncs - before.walSyncs) / photos,
            statements: (after.statements - before.statements) / photos,
            xacts: (after.transactions - before.transactions) / photos,
            rows_written: (after.rowsWritten - before.rowsWritten) / photos,
          },
          routes,
          exactly_once: { captured: sum(captured.map((c) => c.length)), items: items.length, objects_checked: bytesChecked, orphans, problems: problems.slice(0, 20) },
        };
        rows.push(row);
        log(`fleet: N=${N}, ${linkLabel}: ${fmt(row.photos_per_s)} photos/s (floor ${fmt(row.floor_photos_per_s)}), ` +
          `drained median ${fmt(row.drain_s.median)} s max ${fmt(row.drain_s.max)} s, 429s ${waits429.length}, ` +
          `CPU/photo deno ${fmt(row.cpu_ms_per_photo.deno, 2)} pg ${fmt(row.cpu_ms_per_photo.postgres, 2)} ms, problems ${problems.length}`);
        await rm(join(scratch), { recursive: true, force: true });
        await mkdir(scratch, { recursive: true });
      }
    }
    const goals = checkGoals(rows);
    console.log(report(rows, goals));
    if (args.json) {
      await mkdir(dirname(args.json), { recursive: true });
      await writeFile(args.json, JSON.stringify({ rows, goals }, null, 2));
    }
  } finally {
    await proxy.stop();
    baseline.stop();
    await admin.end();
    await stack.stop();
    await rm(stack.workDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

type Goal = { goal: string; result: "PASS" | "FAIL" | "not run"; detail: string };

function checkGoals(rows: any[]): Goal[] {
  const goals: Goal[] = [];
  const cpu = (r: any) => r.cpu_ms_per_photo.deno + r.cpu_ms_per_photo.postgres;
  for (const link of new Set(rows.map((r) => r.link))) {
    const mine = rows.filter((r) => r.link === link);
    const first = mine.find((r) => r.n === 1);
    const last = mine.find((r) => r.n === 200);
    const detail = mine.map((r) => `N=${r.n}: ${fmt(cpu(r), 2)} ms`).join(", ");
    goals.push(first && last
      ? { goal: `server CPU per photo flat within 1.5× from 1 to 200 (${link})`, result: cpu(last) <= 1.5 * cpu(first) ? "PASS" : "FAIL", detail }
      : { goal: `server CPU per photo flat within 1.5× from 1 to 200 (${link})`, result: "not run", detail: `${detail} (needs N=1 and N=200)` });
    const at50 = mine.find((r) => r.n === 50);
    goals.push(at50
      ? { goal: `photos/s at 50 ≥ 0.7 of the same-run floor (${link})`, result: at50.photos_per_s >= 0.7 * at50.floor_photos_per_s ? "PASS" : "FAIL",
        detail: `${fmt(at50.photos_per_s)} vs floor ${fmt(at50.floor_photos_per_s)} (${fmt(at50.photos_per_s / at50.floor_photos_per_s, 2)})` }
      : { goal: `photos/s at 50 ≥ 0.7 of the same-run floor (${link})`, result: "not run", detail: "needs N=50" });
    if (at50) {
      goals.push({ goal: `(beside it) photos/s at 50 ≥ 0.7 of the floor with the photos' PUTs on this stack's storage path (${link})`,
        result: at50.photos_per_s >= 0.7 * at50.put_floor_photos_per_s ? "PASS" : "FAIL",
        detail: `${fmt(at50.photos_per_s)} vs ${fmt(at50.put_floor_photos_per_s)} (${fmt(at50.photos_per_s / at50.put_floor_photos_per_s, 2)})` });
    }
    for (const n of [50, 200]) {
      const r = mine.find((x) => x.n === n);
      goals.push(r
        ? { goal: `fair at ${n}: slowest ≤ 1.5× median (${link})`, result: r.drain_s.max <= 1.5 * r.drain_s.median ? "PASS" : "FAIL",
          detail: `max ${fmt(r.drain_s.max)} s, median ${fmt(r.drain_s.median)} s (${fmt(r.drain_s.max / r.drain_s.median, 2)}×)` }
        : { goal: `fair at ${n}: slowest ≤ 1.5× median (${link})`, result: "not run", detail: `needs N=${n}` });
    }
    const herd = mine.find((r) => r.n === 200 && r.window_ms === 0);
    const herdBad = (r: any) => r.gave_up + r.resets_or_timeouts + Object.entries(r.server_statuses).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + Number(c), 0);
    goals.push(herd
      ? { goal: `thundering herd: 200 online in the same second, none gives up or resets, no 5xx (${link})`, result: herdBad(herd) === 0 ? "PASS" : "FAIL",
        detail: `gave up ${herd.gave_up}, resets/timeouts ${herd.resets_or_timeouts}, statuses ${JSON.stringify(herd.server_statuses)}, ` +
          `429s ${herd.retry_after_429.count} (Retry-After waits median ${fmt(herd.retry_after_429.median_ms, 0)} ms), all drained in ${fmt(herd.wall_s)} s` }
      : { goal: `thundering herd: 200 online in the same second (${link})`, result: "not run", detail: "needs N=200 with --window-ms 0" });
  }
  const bad = rows.filter((r) => r.exactly_once.problems.length);
  goals.push({ goal: "exactly once at every N (items, jobs, SHA-256 of stored bytes, no orphans after the sweeper)", result: bad.length ? "FAIL" : "PASS",
    detail: rows.map((r) => `N=${r.n} ${r.link}: ${r.exactly_once.items}/${r.exactly_once.captured} items, ${r.exactly_once.objects_checked} objects hashed, ${r.exactly_once.orphans} orphans`).join("; ") });
  return goals;
}

function report(rows: any[], goals: Goal[]): string {
  const out = [`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); ${PHOTOS} photos a camera, ${args["photo-size"]}-${args["photo-size-max"]} B; ` +
    `online within ${WINDOW_MS} ms; ${PER_ACCOUNT} cameras an account`, "",
    "| link | N | photos | photos/s | floor photos/s | ratio | floor + PUTs photos/s | ratio | drained s median / p95 / max | API calls/photo | PUTs/photo | conns/photo | 429s | Retry-After median / max ms | gave up | CPU ms/photo Deno + PG (floor) | bench Node CPU ms/photo | WAL syncs/photo | statements/photo | xacts/photo |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.link} | ${r.n} | ${r.photos} | ${fmt(r.photos_per_s)} | ${fmt(r.floor_photos_per_s)} | ${fmt(r.photos_per_s / r.floor_photos_per_s, 2)} | ` +
      `${fmt(r.put_floor_photos_per_s)} | ${fmt(r.photos_per_s / r.put_floor_photos_per_s, 2)} | ` +
      `${fmt(r.drain_s.median)} / ${fmt(r.drain_s.p95)} / ${fmt(r.drain_s.max)} | ${fmt(r.api_calls_per_photo, 3)} | ${fmt(r.puts_per_photo, 2)} | ${fmt(r.connections_per_photo, 3)} | ` +
      `${r.retry_after_429.count} | ${fmt(r.retry_after_429.median_ms, 0)} / ${fmt(r.retry_after_429.max_ms, 0)} | ${r.gave_up} | ` +
      `${fmt(r.cpu_ms_per_photo.deno, 2)} + ${fmt(r.cpu_ms_per_photo.postgres, 2)} (${fmt(r.floor_cpu_ms_per_photo.deno, 2)} + ${fmt(r.floor_cpu_ms_per_photo.postgres, 2)}) | ${fmt(r.bench_node_cpu_ms_per_photo, 2)} | ` +
      `${fmt(r.per_photo.wal_syncs, 3)} | ${fmt(r.per_photo.statements, 3)} | ${fmt(r.per_photo.xacts, 3)} |`),
    "", "| link | N | route | requests | p50 ms | p99 ms |", "| --- | ---: | --- | ---: | ---: | ---: |",
    ...rows.flatMap((r) => Object.entries(r.routes as Record<string, { n: number; p50: number; p99: number }>)
      .map(([name, s]) => `| ${r.link} | ${r.n} | ${name} | ${s.n} | ${s.p50} | ${s.p99} |`)),
    "", ...goals.map((g) => `${g.result.padEnd(7)} ${g.goal}: ${g.detail}`)];
  return out.join("\n");
}

await main();
