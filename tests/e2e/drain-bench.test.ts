// A small run of the drain benchmark (npm run bench:drain; the full 2,880-photo run is not
// part of the suite): the script's own stack, the simulated camera (the firmware core) with
// 40 photos captured offline, then drained over a 20 ms / 40 Mbit/s link, with the API and
// storage on two hosts and on one. The counts come from the link proxies (request heads,
// connections) and Postgres, not from the camera. No timing is asserted but that the link
// was there.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

const PHOTOS = 40;
const DRAIN_ROUTES = ["upload-url", "upload-urls", "ingest", "ingest-batch"];

it("the simulated camera drains 40 offline photos in batches, exactly once, one PUT each, on one connection per host", async () => {
  const out = join(await tempDir("lifelog-drain-"), "drain.json");
  await promisify(execFile)(join(PROJECT_ROOT, "node_modules/.bin/tsx"),
    ["scripts/bench/drain.ts", "--photos", String(PHOTOS), "--rtt", "20", "--mbit", "40", "--links", "slow",
      "--hosts", "split,shared", "--json", out],
    { cwd: PROJECT_ROOT, timeout: 400_000 });
  const { rows } = JSON.parse(await readFile(out, "utf8"));
  expect(rows.map((r: { hosts: string }) => r.hosts)).toEqual(["split", "shared"]);
  for (const row of rows) {
    expect(row.exactly_once).toEqual({ items: PHOTOS, jobs: PHOTOS });
    expect(row.camera_retries).toEqual({}); // nothing failed, so nothing was repeated
    expect(row.unframed_requests).toBe(0);
    expect(row.other_requests).toEqual({});
    expect(row.storage_requests).toEqual({ PUT: PHOTOS });
    // Only the batch routes: 40 photos are one window of 32 and one of 8, so 2 upload-urls and
    // 2 ingest-batch calls, 0.1 API calls per photo (2.00 with the single routes).
    expect(Object.keys(row.api_requests).every((r) => DRAIN_ROUTES.includes(r))).toBe(true);
    expect(row.api_requests).toEqual({ "upload-urls": Math.ceil(PHOTOS / 32), "ingest-batch": Math.ceil(PHOTOS / 32) });
    expect(row.api_calls_per_photo).toBeLessThanOrEqual(0.1);
    // Beside them: the camera's one activation (its offline boot never reached the server) and
    // its heartbeats, as on the board; nothing else.
    const { activate, heartbeat: _heartbeats, ...otherLifecycle } = row.lifecycle_requests;
    expect({ activate, otherLifecycle }).toEqual({ activate: 1, otherLifecycle: {} });
    // 40 photos of 40-80 KB at 40 Mbit/s cannot take less than ~0.5 s: the link was there.
    expect(row.put_only_s).toBeGreaterThan(0.4);
    expect(row.drain_s).toBeGreaterThan(0.4);
  }
  const [split, shared] = rows;
  expect(split.tcp_connections).toEqual({ api: 1, storage: 1 });
  // One host (as on Supabase): the camera sends the API calls and the PUTs over one connection.
  expect(shared.tcp_connections).toMatchObject({ total: 1, carrying_api: 1, carrying_storage: 1 });
}, 420_000);
