// Runs under Deno beside the devices function: the floors a route's cost is compared with,
// built from the same parts the function uses (its Postgres driver and pool, its SigV4
// presigning), so a route's ratio to them is the cost of the route's own work.
//   /bare         fixed JSON, no I/O
//   /select1      one `select 1` through connectDatabase (the function's pool settings)
//   /head         one presigned HEAD of an existing object through the SigV4 gate
//   /head-select  both, one after the other (what a new ingest cannot avoid with the s3 driver)
//   /write        one single-row insert, committed with its WAL flush (what a route that must
//                 keep what it wrote cannot avoid: a new reservation, an ingested item)
//   /head-write   one HEAD, then that insert (a new ingest's floor with the s3 driver)
//   /reserve-floor?n=N  N rows in one insert, committed with its flush, and N presigned PUT
//                 URLs (a batch's reservation: what upload-urls cannot avoid); with BENCH_PUT_ENDPOINT
//                 they are signed for that endpoint and returned with their keys, to be PUT to
//   /ingest-floor?n=N   N rows in one flushed insert (a batch's ingest: what ingest-batch cannot avoid);
//                 POSTed a JSON array of object keys, each is first read as the s3 driver's
//                 inspectObject reads it (one ranged GET), 8 at a time as ingest-batch does
import { AwsClient } from "aws4fetch";
import { loadConfig } from "../../functions/_shared/config.ts";
import { connectDatabase } from "../../functions/_shared/db.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { objectUrl, presignUrl } from "../../functions/_shared/storage/s3.ts";

// The function's own settings, read from the same env names, so the pool is the same size.
const config = loadConfig(Deno.env.toObject());
if (config.storage.driver !== "s3") throw new Error("baseline-host measures the s3 driver's HEAD");
const sql = connectDatabase(config.dbUrl, config.dbPoolSize);
const s3 = config.storage;
const client = new AwsClient({
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
  service: "s3",
  region: s3.region,
});
const env = (name: string): string => {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`baseline-host needs ${name}`);
  return v;
};
const headKey = env("BENCH_HEAD_KEY");
const putEndpoint = Deno.env.get("BENCH_PUT_ENDPOINT");
const storage = createStorageDriver(config);
const INSPECT_PARALLELISM = 8; // ingest-batch.ts's STORAGE_PARALLELISM

async function inspectAll(keys: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(INSPECT_PARALLELISM, keys.length) }, async () => {
    while (next < keys.length) {
      const object = await storage.inspectObject(keys[next++]);
      if (!object.exists) throw new Error("ingest-floor: an object to inspect is missing");
    }
  }));
}

async function head(): Promise<number> {
  const url = await presignUrl(client, objectUrl(s3, headKey), "HEAD", 60, {}, new Date());
  const res = await fetch(url, { method: "HEAD" });
  await res.body?.cancel();
  return res.status;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

// bench.durable_writes is made by the bench (api.ts) in its own throwaway database.
const durableWrite = async () => (await sql`insert into bench.durable_writes default values returning id`)[0].id;

const durableRows = (n: number) =>
  sql`insert into bench.durable_writes select from generate_series(1, ${n}::int) returning id`;
const batchSize = (url: URL) => Math.min(Math.max(Number(url.searchParams.get("n") ?? 1) || 1, 1), 1000);

const routes: Record<string, (url: URL, req: Request) => Promise<Response>> = {
  "/bare": () => Promise.resolve(json({ ok: true })),
  "/select1": async () => json({ one: (await sql`select 1 as one`)[0].one }),
  "/head": async () => json({ head: await head() }),
  "/head-select": async () => {
    const status = await head();
    const [row] = await sql`select 1 as one`;
    return json({ head: status, one: row.one });
  },
  "/write": async () => json({ id: await durableWrite() }),
  "/head-write": async () => {
    const status = await head();
    return json({ head: status, id: await durableWrite() });
  },
  "/reserve-floor": async (url) => {
    const n = batchSize(url);
    const ids = await durableRows(n);
    const now = new Date();
    const keys = ids.map((r) => `floor/${r.id}.jpg`);
    const urls = await Promise.all(keys.map((k) =>
      presignUrl(client, objectUrl({ endpoint: putEndpoint ?? s3.endpoint, bucket: s3.bucket }, k), "PUT", 300, {}, now)));
    return json(putEndpoint ? { keys, urls } : { urls: urls.length });
  },
  "/ingest-floor": async (url, req) => {
    if (req.method === "POST") await inspectAll(await req.json() as string[]);
    return json({ rows: (await durableRows(batchSize(url))).length });
  },
};

(async () => {
  for await (const _ of Deno.stdin.readable) { /* closes when the bench exits */ }
  Deno.exit(0);
})();

Deno.serve({
  port: Number(env("BENCH_PORT")),
  hostname: "127.0.0.1",
  onListen: () => console.log("baseline-host listening"),
}, async (req) => {
  const url = new URL(req.url);
  const route = routes[url.pathname];
  if (req.method !== "POST") await req.body?.cancel();
  return route ? await route(url, req) : json({ error: "not_found" }, 404);
});
