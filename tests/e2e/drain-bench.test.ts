// A small run of the drain benchmark (npm run bench:drain; the full 2,880-photo run is not
// part of the suite): the script's own stack, 40 photos over a 20 ms / 40 Mbit/s link.
// It must drain every photo exactly once, in 2 API calls per batch of 32, on one TCP
// connection per host.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

it("drains 40 photos with upload-urls + ingest-batch on one kept-alive connection per host", async () => {
  const out = join(await tempDir("lifelog-drain-"), "drain.json");
  await promisify(execFile)(join(PROJECT_ROOT, "node_modules/.bin/tsx"),
    ["scripts/bench/drain.ts", "--photos", "40", "--rtt", "20", "--mbit", "40", "--links", "slow", "--json", out],
    { cwd: PROJECT_ROOT, timeout: 240_000 });
  const { rows } = JSON.parse(await readFile(out, "utf8"));
  expect(rows).toHaveLength(1);
  const [row] = rows;
  expect(row.exactly_once).toEqual({ items: 40, jobs: 40 });
  expect(row.api_calls_per_photo).toBe(4 / 40); // two batches: 32 + 8
  expect(row.puts_per_photo).toBe(1);
  expect(row.tcp_connections).toEqual({ api: 1, storage: 1 });
  // 40 photos of 40-80 KB at 40 Mbit/s cannot take less than ~0.5 s: the link was there.
  expect(row.put_only_s).toBeGreaterThan(0.4);
  expect(row.ratio_to_put_only).toBeGreaterThan(0.5);
}, 300_000);
