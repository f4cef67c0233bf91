// The processing hand-off: processing.claim_jobs / complete_job / fail_job.
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { newUser, sql, stack } from "../support/stack.ts";

async function queueItems(n: number, maxAttempts = 5): Promise<string[]> {
  const user = await newUser();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const [item] = await sql`
      insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at, ntp_synced)
      values (${user.id}, 'photo', ${`test/${user.id}/${i}.jpg`}, 'image/jpeg', now(), true) returning id`;
    const [job] = await sql`insert into public.processing_jobs (item_id, max_attempts) values (${item.id}, ${maxAttempts}) returning id`;
    ids.push(job.id);
  }
  return ids;
}

// Each worker on its own connection, as separate processes would be.
const workerA = postgres(stack.db_url, { max: 1, onnotice: () => {} });
const workerB = postgres(stack.db_url, { max: 1, onnotice: () => {} });
afterAll(async () => { await workerA.end(); await workerB.end(); });

const endLease = (jobId: string) =>
  sql`update public.processing_jobs set lease_until = now() - interval '1 second' where id = ${jobId}`;

type Claimed = { id: string; attempts: number; locked_by: string };
const claim = (db: postgres.Sql, worker: string, limit: number, lease = 300) =>
  db<Claimed[]>`select id, attempts, locked_by from processing.claim_jobs(${worker}, ${limit}, ${lease})`;

describe("processing jobs", () => {
  it("two workers claiming concurrently never receive the same job", async () => {
    const mine = new Set(await queueItems(60));
    const byA: string[] = [];
    const byB: string[] = [];
    for (;;) {
      const [a, b] = await Promise.all([claim(workerA, "worker-a", 7), claim(workerB, "worker-b", 7)]);
      byA.push(...a.map((j) => j.id));
      byB.push(...b.map((j) => j.id));
      if (a.length === 0 && b.length === 0) break;
    }
    const overlap = byA.filter((id) => byB.includes(id));
    expect(overlap).toEqual([]);
    const claimedMine = [...byA, ...byB].filter((id) => mine.has(id));
    expect(new Set(claimedMine).size).toBe(60);
    expect(claimedMine).toHaveLength(60);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
  });

  it("a job whose lease ran out is claimed again, and the first worker can no longer complete it", async () => {
    const [jobId] = await queueItems(1);
    await sql`update public.processing_jobs set run_after = now() - interval '1 day' where id = ${jobId}`;
    const first = (await claim(workerA, "slow-worker", 100)).find((j) => j.id === jobId);
    expect(first?.attempts).toBe(1);
    expect((await claim(workerB, "other-worker", 100)).find((j) => j.id === jobId)).toBeUndefined();
    await endLease(jobId); // as if the 300 s had passed
    const second = (await claim(workerB, "other-worker", 100)).find((j) => j.id === jobId);
    expect(second).toMatchObject({ attempts: 2, locked_by: "other-worker" });
    const [{ done: late }] = await sql`select processing.complete_job(${jobId}, 'slow-worker') as done`;
    expect(late).toBe(false);
    const [{ done }] = await sql`select processing.complete_job(${jobId}, 'other-worker') as done`;
    expect(done).toBe(true);
    const [row] = await sql`select j.status, i.status as item_status from public.processing_jobs j
                              join public.source_items i on i.id = j.item_id where j.id = ${jobId}`;
    expect(row).toEqual({ status: "done", item_status: "processed" });
  });

  it("a failed job is retried later, and dead with its reason after max_attempts", async () => {
    const [jobId] = await queueItems(1, 2);
    await sql`update public.processing_jobs set run_after = now() - interval '1 day' where id = ${jobId}`;
    expect((await claim(workerA, "w", 100)).some((j) => j.id === jobId)).toBe(true);
    const [{ outcome: first }] = await sql`select processing.fail_job(${jobId}, 'w', 'decoder crashed') as outcome`;
    expect(first).toBe("queued");
    const [retry] = await sql`select status, run_after > now() as later from public.processing_jobs where id = ${jobId}`;
    expect(retry).toEqual({ status: "queued", later: true });
    expect((await claim(workerA, "w", 100)).some((j) => j.id === jobId)).toBe(false); // not before run_after

    await sql`update public.processing_jobs set run_after = now() where id = ${jobId}`;
    expect((await claim(workerA, "w", 100)).some((j) => j.id === jobId)).toBe(true);
    const [{ outcome }] = await sql`select processing.fail_job(${jobId}, 'w', 'decoder crashed again') as outcome`;
    expect(outcome).toBe("dead");
    const [row] = await sql`select j.status, j.attempts, j.last_error, i.status as item_status
                              from public.processing_jobs j join public.source_items i on i.id = j.item_id
                             where j.id = ${jobId}`;
    expect(row).toEqual({ status: "dead", attempts: 2, last_error: "decoder crashed again", item_status: "failed" });
    expect((await claim(workerA, "w", 100)).some((j) => j.id === jobId)).toBe(false);
  });

  it("a job whose worker keeps losing its lease is dead after max_attempts, and says why", async () => {
    const [jobId] = await queueItems(1, 2);
    await sql`update public.processing_jobs set run_after = now() - interval '1 day' where id = ${jobId}`;
    expect((await claim(workerA, "crashing-worker", 100)).find((j) => j.id === jobId)?.attempts).toBe(1);
    await endLease(jobId);
    expect((await claim(workerA, "crashing-worker", 100)).find((j) => j.id === jobId)?.attempts).toBe(2);
    await endLease(jobId);
    expect((await claim(workerB, "other-worker", 100)).some((j) => j.id === jobId)).toBe(false);
    const [row] = await sql`select j.status, j.attempts, j.locked_by, j.last_error, i.status as item_status
                              from public.processing_jobs j join public.source_items i on i.id = j.item_id
                             where j.id = ${jobId}`;
    expect(row).toEqual({
      status: "dead", attempts: 2, locked_by: null, item_status: "failed",
      last_error: "the lease of attempt 2 of 2 ran out before the worker completed or failed the job",
    });
    const [{ done }] = await sql`select processing.complete_job(${jobId}, 'crashing-worker') as done`;
    expect(done).toBe(false);
  });

  it("is callable by service_role and not by the API roles", async () => {
    for (const role of ["anon", "authenticated"]) {
      const err = await sql.begin(async (tx) => {
        await tx.unsafe(`set local role ${role}`);
        await tx`select * from processing.claim_jobs('x', 1, 1)`;
      }).catch((e) => e);
      expect(err?.code, role).toBe("42501");
    }
    await sql.begin(async (tx) => {
      await tx`set local role service_role`;
      await tx`select * from processing.claim_jobs('x', 1, 1)`;
      throw new Error("rollback");
    }).catch((e) => expect(e.message).toBe("rollback"));
  });
});
