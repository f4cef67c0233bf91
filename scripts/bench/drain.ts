// `npm run bench:drain`: the simulated camera (the firmware core built for this machine,
// firmware-config/host/sim_camera_main.cpp) drains a day's backlog into the local stack,
// directly and over a slow link (scripts/stack/slow-link.ts: 100 ms RTT, 5 Mbit/s, one pipe
// shared by all connections), against a loop that only PUTs the same bytes over the same link
// (the limit). A benchmark, not a test: it prints figures.
//
// Per run: a new device; the camera captures the backlog offline on a simulated clock
// (`--sim-clock --offline-ms`, every 30 s, 40-80 KB photos) and stops at the end of the
// offline stretch; then it starts again on the same card, online and on the real clock, and
// drains. Only the second process is timed, from its `boot` line to its `drained` line. (One
// process could do both, but on the simulated clock time stands still while the camera talks,
// so its timeouts and Retry-After waits would not run in real time.)
//
// What the camera did is counted where it cannot flatter itself: API calls and PUTs from the
// request heads its bytes carry through the link proxies, TCP connections at the proxies, and
// exactly once (items = jobs = photos, each frame's SHA-256 as the synthetic sensor makes it)
// in Postgres.
//
// Hosts: `split` puts the API and storage on two host:ports (as with S3 elsewhere); `shared`
// puts both on one, as on a hosted project (`<project>/functions/v1`, `<project>/storage/v1/s3`;
// the stack's gateway routes by path), where the camera can use one connection for both.
//
//   npm run bench:drain -- [--photos 2880] [--rtt 100] [--mbit 5] [--links direct,slow] [--hosts split,shared] [--json out.json]
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { buildSimCamera, type CameraEvent, startSimCamera, syntheticFrame, syntheticFrameSize } from "../sim/sim-camera.ts";
import { createLocalUser } from "../stack/auth.ts";
import { createLink, type Link, type SlowLinkProxy, startSlowLinkProxy } from "../stack/slow-link.ts";
import { STORAGE_S3_PREFIX, startStack } from "../stack/stack.ts";
import { keptAliveClient as client, type Res } from "./kept-alive-client.ts";

const PHOTO_ROUTES = ["upload-url", "upload-urls", "ingest", "ingest-batch"];

const { values: args } = parseArgs({
  options: {
    photos: { type: "string", default: "2880" },
    rtt: { type: "string", default: "100" },
    mbit: { type: "string", default: "5" },
    links: { type: "string", default: "direct,slow" },
    hosts: { type: "string", default: "split,shared" },
    json: { type: "string" },
  },
});
const PHOTOS = Number(args.photos);
const INTERVAL_MS = 30_000; // the camera's rhythm: a day is 2,880 photos
const OFFLINE_MS = PHOTOS * INTERVAL_MS;
// 40-80 KB, as a camera's VGA JPEGs; the sensor spreads sizes by frame (seeded).
const SIZE_MIN = 40_000;
const SIZE_MAX = 80_000;
const SEED = 1;
const PUT_ONLY_BATCH = 32; // the batch routes' limit: how many targets the PUT-only loop fetches at once

const photos = Array.from({ length: PHOTOS }, (_, frame) => {
  const bytes = syntheticFrame(SEED, frame, syntheticFrameSize(frame, SIZE_MIN, SIZE_MAX));
  return { frame, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
});

type Counts = Record<string, number>;
const bump = (c: Counts, k: string) => { c[k] = (c[k] ?? 0) + 1; };

/** What the proxies saw since `mark`: requests per route, and the connections that carried API or storage requests. */
function seen(proxies: SlowLinkProxy[], mark: number[]) {
  const api: Counts = {};
  const storage: Counts = {};
  const other: Counts = {};
  const conns = { api: new Set<string>(), storage: new Set<string>() };
  let unframed = 0;
  proxies.forEach((p, i) => {
    for (const r of p.stats.requests.slice(mark[i])) {
      const fn = /^\/functions\/v1\/devices\/(.+)$/.exec(r.path);
      if (fn) { bump(api, fn[1]); conns.api.add(`${i}:${r.connection}`); }
      else if (r.path.startsWith(`${STORAGE_S3_PREFIX}/`)) { bump(storage, r.method); conns.storage.add(`${i}:${r.connection}`); }
      else bump(other, `${r.method} ${r.path}`);
    }
    unframed += p.stats.unframed;
  });
  return { api, storage, other, unframed, apiConnections: conns.api.size, storageConnections: conns.storage.size };
}

async function main() {
  const log = (l: string) => { if (!l.startsWith("devices: {")) process.stderr.write(`${l}\n`); };
  await buildSimCamera();
  let link: Link = createLink({ rttMs: 0, bitsPerSecond: Infinity });
  let supabaseUrl = "";
  // Both proxies lead to the stack's gateway, which routes /functions/v1 to the function and
  // /storage/v1/s3 to the SigV4 gate. Upload URLs name `host`: split, the camera's API calls go
  // to `api`; shared, to `host` too.
  const host = await startSlowLinkProxy({ upstream: () => supabaseUrl, link: () => link });
  const apiProxy = await startSlowLinkProxy({ upstream: () => supabaseUrl, link: () => link });
  const stack = await startStack({
    ports: "random",
    // Its own folder: a stack clears its folder first, so two runs must not share one.
    workDir: await mkdtemp(join(tmpdir(), "lifelog-drain-")),
    storageOnGateway: true,
    // The PUT-only loop reserves every photo and ingests none: it needs more than the
    // default budget of 32 outstanding reservations. The camera never holds more than a batch.
    functionEnv: { S3_PUBLIC_ENDPOINT: host.url + STORAGE_S3_PREFIX, DEVICE_MAX_OUTSTANDING_UPLOADS: String(PHOTOS + PUT_ONLY_BATCH) },
    log,
  });
  supabaseUrl = stack.info.supabase_url;
  const admin = postgres(stack.info.db_url, { max: 1, onnotice: () => {} });
  const rows: Record<string, unknown>[] = [];
  const scratch = await mkdtemp(join(tmpdir(), "lifelog-drain-cards-"));
  try {
    const newUser = () => createLocalUser(admin, stack.authKey, `drain-${randomUUID().slice(0, 8)}@lifelog.local`);
    const pair = async () => {
      const c = client();
      const { accessToken } = await newUser();
      const paired = await c.json(`${stack.info.api_base}/devices/pair`, { name: "drain" }, { authorization: `Bearer ${accessToken}` });
      c.close();
      if (paired.status !== 201) throw new Error(`pair: ${paired.status} ${JSON.stringify(paired.body)}`);
      return { id: paired.body.device_id as string, code: paired.body.pairing_code as string };
    };

    for (const linkName of args.links!.split(",")) {
      const plan = linkName === "slow" ? { rttMs: Number(args.rtt), bitsPerSecond: Number(args.mbit) * 1e6 }
        : { rttMs: 0, bitsPerSecond: Infinity };
      const linkLabel = linkName === "slow" ? `${plan.rttMs} ms RTT, ${args.mbit} Mbit/s` : "direct (loopback)";

      // The limit: the same bytes PUT over the same link to the same host; each batch's targets
      // are fetched off the link just before its PUTs (upload URLs live 5 minutes) and not timed.
      const { accessToken } = await newUser();
      const setup = client();
      const p = await setup.json(`${stack.info.api_base}/devices/pair`, {}, { authorization: `Bearer ${accessToken}` });
      const a = await setup.json(`${stack.info.api_base}/devices/activate`, { pairing_code: p.body.pairing_code }, {});
      if (p.status !== 201 || a.status !== 201) throw new Error(`PUT-only device: ${p.status} ${a.status}`);
      const token = a.body.device_token as string;
      link = createLink(plan);
      const puts = client();
      let putOnlyMs = 0;
      for (let i = 0; i < photos.length; i += PUT_ONLY_BATCH) {
        const chunk = photos.slice(i, i + PUT_ONLY_BATCH);
        const r = await setup.json(`${stack.info.api_base}/devices/upload-urls`, {
          items: chunk.map((ph) => ({ filename: `P${ph.frame}.jpg`, content_type: "image/jpeg", seq: ph.frame, size: ph.bytes.length, sha256: ph.sha256 })),
        }, { "x-device-token": token });
        if (r.status !== 200) throw new Error(`PUT-only upload-urls: ${r.status} ${JSON.stringify(r.body)}`);
        const t1 = performance.now();
        for (const [k, target] of (r.body.results as Res[]).entries()) {
          const put = await puts.send(target.body.upload_url, "PUT", target.body.upload_headers, chunk[k].bytes);
          if (put.status !== 200) throw new Error(`PUT-only: ${put.status}`);
        }
        putOnlyMs += performance.now() - t1;
      }
      setup.close();
      puts.close();
      log(`  ${linkLabel}: PUT-only ${(putOnlyMs / 1000).toFixed(1)} s`);

      for (const hosts of args.hosts!.split(",")) {
        const apiBase = `${(hosts === "shared" ? host : apiProxy).url}/functions/v1`;
        const device = await pair();
        const dir = join(scratch, `${linkName}-${hosts}`);
        await mkdir(dir, { recursive: true });
        const camera = { apiBase, card: join(dir, "card"), nvs: join(dir, "nvs"), intervalMs: INTERVAL_MS, photos: PHOTOS,
          photoSize: SIZE_MIN, photoSizeMax: SIZE_MAX };
        link = createLink(plan);

        // 1. A day offline: every capture, no upload; it stops where the network would come.
        const offline = startSimCamera({ ...camera, pairingCode: device.code,
          extraArgs: ["--seed", String(SEED), "--sim-clock", "--offline-ms", String(OFFLINE_MS), "--max-runtime-ms", String(OFFLINE_MS)] });
        const offlineExit = await offline.exit;
        const captured = offline.events.filter((e) => e.event === "captured").length;
        const sentEarly = offline.events.filter((e) => ["uploaded", "ingested"].includes(e.event)).length;
        if (offlineExit !== 6 || captured !== PHOTOS || sentEarly) {
          throw new Error(`offline capture: exit ${offlineExit}, ${captured} captured, ${sentEarly} sent early`);
        }

        // 2. Online: the drain, timed from boot to drained.
        const mark = [host.stats.requests.length, apiProxy.stats.requests.length];
        const before = { host: host.stats.connections, api: apiProxy.stats.connections };
        let t0 = 0;
        let t1 = 0;
        const online = startSimCamera({ ...camera, exitWhenDrained: true,
          extraArgs: ["--seed", String(SEED), "--max-runtime-ms", String(PHOTOS * 5_000 + 600_000)],
          onEvent: (e: CameraEvent) => {
            if (e.event === "boot") t0 = performance.now();
            if (e.event === "drained") t1 = performance.now();
          } });
        const onlineExit = await online.exit;
        if (onlineExit !== 0 || !t1) throw new Error(`drain: exit ${onlineExit}`);
        const drainMs = t1 - t0;
        const requests = seen([host, apiProxy], mark);
        const retries: Counts = {};
        for (const e of online.events.filter((x) => x.event === "retry")) bump(retries, `${e.step} ${e.status} ${e.code}`);

        const items = await admin<{ device_seq: string; metadata: { frame: number; sha256: string } }[]>`
          select device_seq, metadata from public.source_items where device_id = ${device.id}`;
        const [{ jobs }] = await admin<{ jobs: number }[]>`
          select count(*)::int as jobs from public.processing_jobs j join public.source_items i on i.id = j.item_id
           where i.device_id = ${device.id}`;
        const frames = new Set(items.map((i) => i.metadata.frame));
        const wrong = items.filter((i) => i.metadata.sha256 !== photos[i.metadata.frame]?.sha256).length;
        const seqs = new Set(items.map((i) => i.device_seq)).size;
        if (items.length !== PHOTOS || seqs !== PHOTOS || frames.size !== PHOTOS || jobs !== PHOTOS || wrong) {
          throw new Error(`exactly once: ${items.length} items, ${seqs} seqs, ${frames.size} frames, ${jobs} jobs, ${wrong} wrong bytes`);
        }

        // The photos' own calls; the camera's activation (its offline boot never reached the
        // server) and its heartbeats are counted beside them.
        const drainCalls = Object.fromEntries(Object.entries(requests.api).filter(([r]) => PHOTO_ROUTES.includes(r)));
        const lifecycleCalls = Object.fromEntries(Object.entries(requests.api).filter(([r]) => !PHOTO_ROUTES.includes(r)));
        const apiCalls = Object.values(drainCalls).reduce((n, c) => n + c, 0);
        const row = {
          link: linkLabel,
          hosts,
          photos: PHOTOS,
          mbytes: photos.reduce((n, ph) => n + ph.bytes.length, 0) / 1e6,
          drain_s: drainMs / 1000,
          photos_per_s: PHOTOS / (drainMs / 1000),
          api_calls_per_photo: apiCalls / PHOTOS,
          puts_per_photo: (requests.storage.PUT ?? 0) / PHOTOS,
          api_requests: drainCalls,
          lifecycle_requests: lifecycleCalls,
          storage_requests: requests.storage,
          other_requests: requests.other,
          unframed_requests: requests.unframed,
          tcp_connections: hosts === "shared"
            ? { total: host.stats.connections - before.host, carrying_api: requests.apiConnections, carrying_storage: requests.storageConnections }
            : { api: apiProxy.stats.connections - before.api, storage: host.stats.connections - before.host },
          camera_retries: retries,
          // how long the camera waited before each retry: a wait past the gateway's 30 s
          // keep-alive timeout (scripts/stack/gateway.ts) costs a reconnect
          camera_retry_delays_ms: online.events.filter((x) => x.event === "retry").map((x) => x.delay_ms),
          put_only_s: putOnlyMs / 1000,
          ratio_to_put_only: drainMs / putOnlyMs,
          exactly_once: { items: items.length, jobs },
        };
        rows.push(row);
        log(`  ${linkLabel}, ${hosts}: ${row.drain_s.toFixed(1)} s, ${row.photos_per_s.toFixed(1)} photos/s, ` +
          `${row.api_calls_per_photo.toFixed(3)} API calls/photo ${JSON.stringify(requests.api)}, ` +
          `connections ${JSON.stringify(row.tcp_connections)}, ratio ${row.ratio_to_put_only.toFixed(2)}, retries ${JSON.stringify(retries)}`);
        await rm(dir, { recursive: true, force: true });
      }
    }
    const conns = (r: any) => r.hosts === "shared" ? `${r.tcp_connections.total} (one host)` : `${r.tcp_connections.api} + ${r.tcp_connections.storage}`;
    const out = [`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); ${PHOTOS} photos (sim-camera), 40-80 KB`, "",
      "| link | hosts | photos | MB | drain s | photos/s | API calls/photo | PUTs/photo | TCP conns (api + storage) | PUT-only s | drain / PUT-only |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...rows.map((r: any) => `| ${r.link} | ${r.hosts} | ${r.photos} | ${r.mbytes.toFixed(1)} | ${r.drain_s.toFixed(1)} | ${r.photos_per_s.toFixed(1)} | ` +
        `${r.api_calls_per_photo.toFixed(3)} | ${r.puts_per_photo.toFixed(2)} | ${conns(r)} | ` +
        `${r.put_only_s.toFixed(1)} | ${r.ratio_to_put_only.toFixed(2)} |`)];
    console.log(out.join("\n"));
    if (args.json) {
      await mkdir(dirname(args.json), { recursive: true });
      await writeFile(args.json, JSON.stringify({ rows }, null, 2));
    }
  } finally {
    await admin.end();
    await apiProxy.stop();
    await host.stop();
    await stack.stop();
    await rm(stack.workDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
