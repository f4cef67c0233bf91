// `npm run bench:drain`: a camera's backlog drained into the local stack, directly and
// over a slow link (scripts/stack/link-proxy.ts: 100 ms RTT, 5 Mbit/s, one pipe shared
// by the API and storage connections), against a loop that only PUTs the same bytes
// over the same link (the limit). A benchmark, not a test: it prints figures.
//
// The drain client here is a TypeScript stand-in for the firmware's uploader, written
// the way the issue asks the firmware to drain: upload-urls and ingest-batch for up to
// 32 photos per call, one kept-alive connection per host, photos PUT one after another.
// The firmware core does not use the batch routes yet (see README: Performance).
//
//   npm run bench:drain -- [--photos 2880] [--rtt 100] [--mbit 5] [--links direct,slow] [--json out.json]
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { syntheticFrame } from "../sim/sim-camera.ts";
import { createLocalUser } from "../stack/auth.ts";
import { createLink, type Link, startLinkProxy } from "../stack/link-proxy.ts";
import { keptAliveClient as client, type Res } from "./kept-alive-client.ts";
import { PROJECT_ROOT, startStack } from "../stack/stack.ts";

const { values: args } = parseArgs({
  options: {
    photos: { type: "string", default: "2880" },
    rtt: { type: "string", default: "100" },
    mbit: { type: "string", default: "5" },
    batch: { type: "string", default: "32" },
    links: { type: "string", default: "direct,slow" },
    json: { type: "string" },
  },
});
const PHOTOS = Number(args.photos);
const BATCH = Number(args.batch);

// 40-80 KB, as a camera's VGA JPEGs (issue 10); seeded, so every run sends the same bytes.
const photos = Array.from({ length: PHOTOS }, (_, i) => {
  const size = 40_000 + ((i * 7919) % 40_001);
  const bytes = syntheticFrame(0x5eed, i, size);
  return { seq: i, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
});

const ask = (p: (typeof photos)[number]) =>
  ({ filename: `IMG_${p.seq}.jpg`, content_type: "image/jpeg", seq: p.seq, size: p.bytes.length, sha256: p.sha256 });
const ingestItem = (key: string, p: (typeof photos)[number]) =>
  ({ object_key: key, seq: p.seq, captured_at: "2026-12-01T10:00:00Z", content_type: "image/jpeg", ntp_synced: true,
     metadata: { sha256: p.sha256 } });

async function main() {
  const log = (l: string) => { if (!l.startsWith("devices: {")) process.stderr.write(`${l}\n`); };
  let link: Link = createLink({ rttMs: 0, bitsPerSecond: Infinity });
  let storeUpstream = "";
  const storeProxy = await startLinkProxy({ upstream: () => storeUpstream, link: () => link });
  const stack = await startStack({
    ports: "random",
    // Its own folder: a stack clears its folder first, so two runs must not share one.
    workDir: await mkdtemp(join(tmpdir(), "lifelog-drain-")),
    // Upload URLs name the proxy: the device reaches storage over the link. Only the
    // PUT-only loop's up-front reservations need more than the default budget.
    functionEnv: { S3_PUBLIC_ENDPOINT: storeProxy.url, DEVICE_MAX_OUTSTANDING_UPLOADS: String(PHOTOS + BATCH) },
    log,
  });
  storeUpstream = stack.info.storage.endpoint;
  const apiProxy = await startLinkProxy({ upstream: () => stack.info.api_base, link: () => link });
  const admin = postgres(stack.info.db_url, { max: 1, onnotice: () => {} });
  const rows: Record<string, unknown>[] = [];
  try {
    const newDevice = async () => {
      const c = client();
      const { accessToken } = await createLocalUser(admin, stack.authKey, `drain-${randomUUID().slice(0, 8)}@lifelog.local`);
      const paired = await c.json(`${stack.info.api_base}/devices/pair`, { name: "drain" }, { authorization: `Bearer ${accessToken}` });
      const activated = await c.json(`${stack.info.api_base}/devices/activate`, { pairing_code: paired.body.pairing_code }, {});
      c.close();
      return { token: activated.body.device_token as string, id: paired.body.device_id as string };
    };

    for (const name of args.links!.split(",")) {
      const plan = name === "slow" ? { rttMs: Number(args.rtt), bitsPerSecond: Number(args.mbit) * 1e6 }
        : { rttMs: 0, bitsPerSecond: Infinity };
      const apiBase = apiProxy.url + new URL(stack.info.api_base).pathname.replace(/\/$/, "");

      // The drain: per batch, one upload-urls, the PUTs, one ingest-batch.
      const device = await newDevice();
      link = createLink(plan);
      const before = { api: apiProxy.stats.connections, store: storeProxy.stats.connections };
      const api = client();
      const store = client();
      const h = { "x-device-token": device.token };
      const t0 = performance.now();
      for (let i = 0; i < photos.length; i += BATCH) {
        const chunk = photos.slice(i, i + BATCH);
        const targets = await api.json(`${apiBase}/devices/upload-urls`, { items: chunk.map(ask) }, h);
        if (targets.status !== 200) throw new Error(`upload-urls: ${targets.status} ${JSON.stringify(targets.body)}`);
        for (const [k, r] of (targets.body.results as Res[]).entries()) {
          if (r.status !== 200) throw new Error(`upload-urls item: ${r.status} ${JSON.stringify(r.body)}`);
          const put = await store.send(r.body.upload_url, "PUT", r.body.upload_headers, chunk[k].bytes);
          if (put.status !== 200) throw new Error(`PUT: ${put.status}`);
        }
        const ingested = await api.json(`${apiBase}/devices/ingest-batch`,
          { items: chunk.map((p, k) => ingestItem(targets.body.results[k].body.object_key, p)) }, h);
        const bad = (ingested.body.results as Res[] | undefined)?.filter((r) => r.status !== 201);
        if (ingested.status !== 200 || bad?.length) throw new Error(`ingest-batch: ${ingested.status} ${JSON.stringify(bad ?? ingested.body)}`);
      }
      const drainMs = performance.now() - t0;
      api.close();
      store.close();
      const [{ items, jobs }] = await admin<{ items: number; jobs: number }[]>`
        select (select count(distinct device_seq) from public.source_items where device_id = ${device.id})::int as items,
               (select count(*) from public.processing_jobs j join public.source_items i on i.id = j.item_id
                 where i.device_id = ${device.id})::int as jobs`;
      if (items !== PHOTOS || jobs !== PHOTOS) throw new Error(`expected ${PHOTOS} items and jobs, got ${items}, ${jobs}`);
      const connections = { api: apiProxy.stats.connections - before.api, storage: storeProxy.stats.connections - before.store };

      // The limit: the same bytes PUT over the same link; each batch's targets are fetched
      // off the link just before its PUTs (upload URLs live 5 minutes) and not timed.
      const other = await newDevice();
      const setup = client();
      link = createLink(plan);
      const puts = client();
      let putOnlyMs = 0;
      for (let i = 0; i < photos.length; i += BATCH) {
        const chunk = photos.slice(i, i + BATCH);
        const r = await setup.json(`${stack.info.api_base}/devices/upload-urls`, { items: chunk.map(ask) },
          { "x-device-token": other.token });
        const t1 = performance.now();
        for (const [k, target] of (r.body.results as Res[]).entries()) {
          const put = await puts.send(target.body.upload_url, "PUT", target.body.upload_headers, chunk[k].bytes);
          if (put.status !== 200) throw new Error(`PUT-only: ${put.status}`);
        }
        putOnlyMs += performance.now() - t1;
      }
      setup.close();
      puts.close();

      const row = {
        link: name === "slow" ? `${plan.rttMs} ms RTT, ${args.mbit} Mbit/s` : "direct (loopback)",
        photos: PHOTOS,
        mbytes: photos.reduce((n, p) => n + p.bytes.length, 0) / 1e6,
        drain_s: drainMs / 1000,
        photos_per_s: PHOTOS / (drainMs / 1000),
        api_calls_per_photo: api.calls / PHOTOS,
        puts_per_photo: store.calls / PHOTOS,
        tcp_connections: connections,
        put_only_s: putOnlyMs / 1000,
        ratio_to_put_only: drainMs / putOnlyMs,
        exactly_once: { items, jobs },
      };
      rows.push(row);
      log(`  ${row.link}: ${row.drain_s.toFixed(1)} s, ${row.photos_per_s.toFixed(1)} photos/s, ` +
        `${row.api_calls_per_photo.toFixed(3)} API calls/photo, connections api ${connections.api} storage ${connections.storage}, ` +
        `PUT-only ${row.put_only_s.toFixed(1)} s, ratio ${row.ratio_to_put_only.toFixed(2)}`);
    }
    const out = [`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); ${PHOTOS} photos, ${BATCH} per batch`, "",
      "| link | photos | MB | drain s | photos/s | API calls/photo | PUTs/photo | TCP conns (api + storage) | PUT-only s | drain / PUT-only |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...rows.map((r: any) => `| ${r.link} | ${r.photos} | ${r.mbytes.toFixed(1)} | ${r.drain_s.toFixed(1)} | ${r.photos_per_s.toFixed(1)} | ` +
        `${r.api_calls_per_photo.toFixed(3)} | ${r.puts_per_photo.toFixed(2)} | ${r.tcp_connections.api} + ${r.tcp_connections.storage} | ` +
        `${r.put_only_s.toFixed(1)} | ${r.ratio_to_put_only.toFixed(2)} |`)];
    console.log(out.join("\n"));
    if (args.json) {
      await mkdir(dirname(args.json), { recursive: true });
      await writeFile(args.json, JSON.stringify({ rows }, null, 2));
    }
  } finally {
    await admin.end();
    await apiProxy.stop();
    await storeProxy.stop();
    await stack.stop();
    await rm(stack.workDir, { recursive: true, force: true });
  }
}

await main();
