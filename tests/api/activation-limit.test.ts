// The guessing bound: with the default settings a pairing code survives at most 5
// failed activations during its 10-minute life (5 / 20^8 < 2^-32). Runs its own
// stack so that the default limit is in force.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";

let own: Stack;
beforeAll(async () => {
  own = await startStack({ workDir: await mkdtemp(join(tmpdir(), "lifelog-limit-")), ports: "random" });
});
afterAll(() => own?.stop());

const activate = (code: string, from: string) =>
  fetch(`${own.info.api_base}/devices/activate`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": from },
    body: JSON.stringify({ pairing_code: code }),
  });

describe("activation guessing limit", () => {
  it("allows 5 failed guesses per window across all clients, then answers 429 with Retry-After, even for a right code", async () => {
    const pair = await fetch(`${own.info.api_base}/devices/pair`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${own.info.user_access_token}` },
      body: "{}",
    });
    const { pairing_code } = await pair.json();
    expect(5 / 20 ** 8).toBeLessThan(2 ** -32);

    for (let i = 0; i < 5; i++) {
      const r = await activate("ZZZZ-ZZZZ", `10.0.0.${i}`); // each guess from another address
      expect(r.status).toBe(404);
    }
    const limited = await activate(pairing_code, "192.0.2.1");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(600);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });

    // A new window opens: the code (still valid) works again.
    const { default: postgres } = await import("postgres");
    const sql = postgres(own.info.db_url, { onnotice: () => {} });
    await sql`update device_api.rate_limit_windows set window_start = window_start - interval '1 hour'`;
    await sql.end();
    expect((await activate(pairing_code, "192.0.2.1")).status).toBe(201);
  });

  it("holds under concurrent guessing: of 30 simultaneous wrong codes, 5 are looked up and 25 refused", async () => {
    const { default: postgres } = await import("postgres");
    const sql = postgres(own.info.db_url, { onnotice: () => {} });
    await sql`update device_api.rate_limit_windows set window_start = window_start - interval '1 hour'`;
    await sql.end();
    const statuses = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const r = await activate("ZZZZ-ZZZZ", `198.51.100.${i}`);
      await r.body?.cancel();
      return r.status;
    }));
    expect(statuses.filter((s) => s === 404)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
  });

  it("limits pairing requests per user and hour, also when they arrive at once", async () => {
    const { user, accessToken } = await own.createUser();
    const statuses = await Promise.all(Array.from({ length: 26 }, async () => {
      const r = await fetch(`${own.info.api_base}/devices/pair`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
        body: "{}",
      });
      await r.body?.cancel();
      return r.status;
    }));
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    const { default: postgres } = await import("postgres");
    const sql = postgres(own.info.db_url, { onnotice: () => {} });
    const [{ n }] = await sql`select count(*)::int as n from public.devices where user_id = ${user.id}`;
    await sql.end();
    expect(n).toBe(20);
  });
});
