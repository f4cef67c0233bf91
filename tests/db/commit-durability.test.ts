// Which device transactions wait for their WAL flush (device_api.commit_durably / commit_lazily):
// whatever must survive a crash (a new reservation, an ingested item) commits with
// synchronous_commit on; a transaction that wrote only rate-limit hits or a later
// signed_until commits with it off. Read inside the transaction, as its commit will see it.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "../support/stack.ts";

const LIMITS = [300, 32, 86400, 1_000_000, 1_000_000] as const; // url ttl, outstanding, reservation ttl, per device, per user

async function device(): Promise<{ id: string; hash: string }> {
  const user = randomUUID();
  await sql`insert into auth.users (id, email) values (${user}, ${`c-${user.slice(0, 8)}@test.local`})`;
  const hash = `test-${randomUUID()}`;
  const [d] = await sql<{ id: string }[]>`
    insert into public.devices (user_id, name, device_token_hash, activated_at) values (${user}, 'cam', ${hash}, now()) returning id`;
  return { id: d.id, hash };
}

/** Runs the calls in one transaction; the synchronous_commit its commit will use. */
async function commitMode(run: (tx: typeof sql) => Promise<unknown>): Promise<string> {
  return await sql.begin(async (tx) => {
    await run(tx as unknown as typeof sql);
    const [{ mode }] = await tx<{ mode: string }[]>`select current_setting('synchronous_commit') as mode`;
    return mode;
  }) as string;
}

const [TTL, MAX_OUT, RES_TTL, PER_DEV, PER_USER] = LIMITS;
const reserve = (tx: typeof sql, hash: string, seq: number) =>
  tx`select * from device_api.reserve_upload(${hash}, ${seq}, ${`p${seq}.jpg`}, 'image/jpeg', ${null}, ${null},
                                             ${TTL}, ${MAX_OUT}, ${RES_TTL}, ${PER_DEV}, ${PER_USER})`;
const reserveMany = (tx: typeof sql, hash: string, seqs: number[]) =>
  tx`select * from device_api.reserve_uploads(${hash},
       ${tx.json(seqs.map((seq) => ({ seq, filename: `p${seq}.jpg`, content_type: "image/jpeg" })) as never)},
       ${TTL}, ${MAX_OUT}, ${RES_TTL}, ${PER_DEV}, ${PER_USER})`;
const ingest = (tx: typeof sql, hash: string, seq: number, key: string) =>
  tx`select * from device_api.ingest(${hash}, ${seq}, ${key}, now(), 'image/jpeg', true, '{}'::jsonb,
                                     '{"exists": true, "size": 2048, "jpeg": true}'::jsonb, 10485760, false,
                                     ${PER_DEV}, ${PER_USER}, false, ${null})`;

describe("commit durability of device transactions", () => {
  it("a new reservation is flushed; asking again for it is not", async () => {
    const d = await device();
    expect(await commitMode((tx) => reserve(tx, d.hash, 1))).toBe("on");
    expect(await commitMode((tx) => reserve(tx, d.hash, 1))).toBe("off");
  });

  it("a batch with one new reservation among repeated ones is flushed, in either order", async () => {
    const d = await device();
    await commitMode((tx) => reserveMany(tx, d.hash, [1, 3]));
    expect(await commitMode((tx) => reserveMany(tx, d.hash, [1, 3]))).toBe("off");
    expect(await commitMode((tx) => reserveMany(tx, d.hash, [1, 2]))).toBe("on"); // repeated first (seq order)
    expect(await commitMode((tx) => reserveMany(tx, d.hash, [3, 4]))).toBe("on");
  });

  it("a new ingest is flushed; its duplicate is not", async () => {
    const d = await device();
    const [r] = await reserve(sql, d.hash, 7);
    expect(await commitMode((tx) => ingest(tx, d.hash, 7, r.object_key))).toBe("on");
    expect(await commitMode((tx) => ingest(tx, d.hash, 7, r.object_key))).toBe("off");
  });

  it("a session that turned synchronous_commit off itself keeps it off for a new reservation", async () => {
    const d = await device();
    expect(await commitMode(async (tx) => {
      await tx`set local synchronous_commit = off`;
      await reserve(tx, d.hash, 1);
    })).toBe("off");
  });
});
