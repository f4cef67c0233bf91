// A tiny run of the fleet benchmark (npm run bench:fleet; the 1-200 camera run is not part of
// the suite): its own stack, three simulated cameras (the firmware core) on two accounts,
// each with a backlog captured offline on the simulated clock, all online at once, directly
// and over a slow link. Asserts what must hold at any size: every capture once in Postgres,
// one job each, the stored bytes' SHA-256 as the camera logged, no orphans after the sweeper,
// nothing refused for good. No timing is asserted.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

const CAMERAS = 3;
const PHOTOS = 36; // more than one batch of 32: two windows a camera

it("three cameras drain their offline backlogs at once, every photo exactly once and byte-identical", async () => {
  const out = join(await tempDir("lifelog-fleet-"), "fleet.json");
  await promisify(execFile)(join(PROJECT_ROOT, "node_modules/.bin/tsx"),
    ["scripts/bench/fleet.ts", "--n", String(CAMERAS), "--photos", String(PHOTOS), "--photo-size", "2000", "--photo-size-max", "6000",
      "--cameras-per-account", "2", "--links", "direct,slow", "--rtt", "20", "--mbit", "40", "--json", out],
    { cwd: PROJECT_ROOT, timeout: 400_000 });
  const { rows, goals } = JSON.parse(await readFile(out, "utf8"));
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row.n).toBe(CAMERAS);
    expect(row.accounts).toBe(2);
    expect(row.exactly_once).toEqual({
      captured: CAMERAS * PHOTOS, items: CAMERAS * PHOTOS, objects_checked: CAMERAS * PHOTOS, orphans: 0, problems: [],
    });
    expect(row.gave_up).toBe(0);
    // Every photo crossed the counted link once, in batches (2 windows a camera, 2 calls each).
    expect(row.puts_per_photo).toBe(1);
    // Besides: each camera's activation (its offline boots never reached the server) and its
    // heartbeats, which the loop sends on every camera as on the board.
    const { "upload-urls": uploadUrls, "ingest-batch": ingestBatch, activate, heartbeat: _heartbeats, ...other } = row.api_requests;
    expect({ uploadUrls, ingestBatch, activate, other }).toEqual({ uploadUrls: 2 * CAMERAS, ingestBatch: 2 * CAMERAS, activate: CAMERAS, other: {} });
    expect(Object.keys(row.routes).filter((r) => r !== "heartbeat").sort()).toEqual(["activate", "ingest-batch", "upload-urls"]);
    expect(row.cpu_ms_per_photo.deno + row.cpu_ms_per_photo.postgres).toBeGreaterThan(0);
    expect(row.per_photo.wal_syncs).toBeGreaterThan(0);
  }
  expect(goals.find((g: { goal: string }) => g.goal.startsWith("exactly once")).result).toBe("PASS");
}, 420_000);
