// The worker's batch calls: processing.claim_photo_jobs (claim and reserve the derivative keys
// in one call) and processing.complete_photo_jobs (a batch recorded and completed in one call,
// each job decided on its own, the devices' triage locks taken in one order).
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { insertPhotoRow } from "../support/photo-rows.ts";
import { activatedDevice, sql, stack } from "../support/stack.ts";

const workerA = postgres(stack.db_url, { max: 1, onnotice: () => {} });
const workerB = postgres(stack.db_url, { max: 1, onnotice: () => {} });
afterAll(async () => { await workerA.end(); await workerB.end(); });

/** n unprocessed photos of a new camera, each with its queued job. */
async function queuedPhotos(n: number) {
  const cam = await activatedDevice();
  const items: string[] = [];
  for (let seq = 0; seq < n; seq++) {
    const { id } = await insertPhotoRow(sql, cam.user.id, cam.deviceId,
      { seq, capturedAt: new Date(Date.parse("2026-12-01T08:00:00Z") + seq * 30_000), processed: false });
    // due long ago: the claims below take these first, and exactly these, on a stack other suites share
    await sql`insert into public.processing_jobs (item_id, run_after) values (${id}, ${new Date(Date.parse("2000-01-02T00:00:00Z") + seq * 1000)})`;
    items.push(id);
  }
  return { cam, items };
}

type Claimed = { job_id: string; item_id: string; storage_key: string; preview_key: string; thumbnail_key: string };
const claim = (db: postgres.Sql, worker: string, limit: number) =>
  db<Claimed[]>`select * from processing.claim_photo_jobs(${worker}, ${limit}, 300)`;

const measured = (jobId: string, i: number) => ({
  job_id: jobId, width: 800, height: 600, mean_luma: 100 + i, sharpness: 300, dhash: String(i * 1_000_003),
  preview_bytes: 9_000 + i, thumbnail_bytes: 2_000 + i,
});
const complete = (db: postgres.Sql, worker: string, jobs: ReturnType<typeof measured>[]) =>
  db<{ job_id: string; item_id: string; device_id: string; done: boolean }[]>`
    select job_id, item_id, device_id, done from processing.complete_photo_jobs(${worker}, ${db.json(jobs)})`;

describe("photo job batches", () => {
  it("claims without overlap between workers and reserves both derivative keys of each claimed photo", async () => {
    const { items } = await queuedPhotos(12);
    const [a, b] = await Promise.all([claim(workerA, "batch-a", 6), claim(workerB, "batch-b", 6)]);
    const mine = [...a, ...b].filter((j) => items.includes(j.item_id));
    expect(new Set(mine.map((j) => j.job_id)).size).toBe(mine.length);
    expect(mine.length).toBe(12);
    const reserved = await sql<{ object_key: string; item_id: string }[]>`
      select object_key, item_id from processing.derivative_uploads where item_id = any (${items})`;
    expect(reserved).toHaveLength(24);
    for (const j of mine) {
      expect(j.preview_key).toMatch(/^derivatives\//);
      expect(reserved.map((r) => r.object_key)).toEqual(expect.arrayContaining([j.preview_key, j.thumbnail_key]));
    }
    const jobs = await sql`select status, locked_by from public.processing_jobs where item_id = any (${items})`;
    expect(jobs.every((j) => j.status === "running" && ["batch-a", "batch-b"].includes(j.locked_by))).toBe(true);
  });

  it("hands out the jobs tried before first, so a worker killed again and again finishes them before their attempts run out", async () => {
    const { items } = await queuedPhotos(6);
    const mine = (jobs: Claimed[]) => jobs.filter((j) => items.includes(j.item_id));
    // a worker took the two newest and died; their leases ran out
    const newest = items.slice(4);
    await sql`update public.processing_jobs set run_after = '2000-01-01' where item_id = any (${newest})`;
    const taken = mine(await claim(workerA, "batch-g", 2));
    expect(taken.map((j) => j.item_id).sort()).toEqual([...newest].sort());
    await sql`update public.processing_jobs set lease_until = now() - interval '1 second' where item_id = any (${newest})`;
    // the others are due even earlier, yet the two tried before come first
    await sql`update public.processing_jobs set run_after = '1999-01-01' where item_id = any (${items.slice(0, 4)})`;
    const again = mine(await claim(workerB, "batch-h", 6));
    expect(again).toHaveLength(6);
    expect(again.slice(0, 2).map((j) => j.item_id).sort()).toEqual([...newest].sort());
  });

  it("completes the jobs still leased to the caller and leaves the one another worker took over untouched", async () => {
    const { cam, items } = await queuedPhotos(3);
    const jobs = (await claim(workerA, "batch-c", 3)).filter((j) => items.includes(j.item_id));
    expect(jobs).toHaveLength(3);
    // the second job's lease ran out and another worker holds it now
    await sql`update public.processing_jobs set locked_by = 'batch-d' where id = ${jobs[1].job_id}`;
    const answer = await complete(workerA, "batch-c", jobs.map((j, i) => measured(j.job_id, i)));
    expect(answer.map((r) => [r.job_id, r.done, r.device_id])).toEqual([
      [jobs[0].job_id, true, cam.deviceId], [jobs[1].job_id, false, cam.deviceId], [jobs[2].job_id, true, cam.deviceId]]);
    const rows = await sql<{ item_id: string; mean_luma: number }[]>`
      select item_id, mean_luma from public.photo_derivatives where item_id = any (${items})`;
    expect(rows.map((r) => r.item_id).sort()).toEqual([jobs[0].item_id, jobs[2].item_id].sort());
    const status = await sql<{ id: string; status: string }[]>`select id, status from public.processing_jobs where item_id = any (${items})`;
    expect(Object.fromEntries(status.map((s) => [s.id, s.status]))).toEqual(
      { [jobs[0].job_id]: "done", [jobs[1].job_id]: "running", [jobs[2].job_id]: "done" });
    // the taken-over job keeps its reservations for its new holder; the completed ones gave theirs up
    const reserved = await sql`select item_id from processing.derivative_uploads where item_id = any (${items})`;
    expect(reserved.map((r) => r.item_id)).toEqual([jobs[1].item_id, jobs[1].item_id]);
  });

  it("takes the triage lock of every device in the batch, so two workers' batches queue instead of deadlocking", async () => {
    const one = await queuedPhotos(2);
    const two = await queuedPhotos(2);
    const mine = (j: Claimed) => one.items.includes(j.item_id) || two.items.includes(j.item_id);
    const a = (await claim(workerA, "batch-e", 4)).filter(mine);
    expect(a).toHaveLength(4);
    const locks = await workerA.begin(async (tx) => {
      await tx`select * from processing.complete_photo_jobs('batch-e', ${tx.json(a.map((j, i) => measured(j.job_id, i)))})`;
      return tx<{ n: number }[]>`select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted`;
    });
    expect(locks[0].n).toBe(2);
    // a second worker's batch over the same devices waits for the first to commit, then goes through
    const b = await queuedPhotos(1);
    const [jb] = (await claim(workerB, "batch-f", 1)).filter((j) => b.items.includes(j.item_id));
    const [held, bDone] = await Promise.all([
      workerA.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext('photo-triage:' || ${b.cam.deviceId}))`;
        await tx`select pg_sleep(0.3)`;
        return Date.now(); // just before the commit that frees the lock
      }),
      new Promise((r) => setTimeout(r, 50)).then(() => complete(workerB, "batch-f", [measured(jb.job_id, 0)])).then(() => Date.now()),
    ]);
    expect(bDone).toBeGreaterThanOrEqual(held);
  });
});
