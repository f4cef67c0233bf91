// The guessing bound: with the default settings a pairing code survives at most 5
// failed activations during its 10-minute life (5 / 20^8 < 2^-32). Runs its own
// stack so that the default limit is in force.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAIRING_ALPHABET, PAIRING_CODE_LENGTH } from "../../functions/_shared/auth/pairing-code.ts";
import { loadConfig } from "../../functions/_shared/config.ts";
import { pairDevice } from "../../scripts/cli/api.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

let own: Stack;
let sql: postgres.Sql;
beforeAll(async () => {
  own = await startStack({ workDir: await tempDir("lifelog-limit-"), ports: "random" });
  sql = postgres(own.info.db_url, { onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await own?.stop();
});

/** Moves every rate-limit window an hour back: the next request starts a fresh one. */
const startNewWindow = () => sql`update device_api.rate_limit_windows set window_start = window_start - interval '1 hour'`;

const activate = (code: string) =>
  fetch(`${own.info.api_base}/devices/activate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pairing_code: code }),
  });

describe("activation guessing limit", () => {
  it("allows 5 failed guesses per window across all clients, then answers 429 with Retry-After, even for a right code", async () => {
    const { pairing_code } = await pairDevice(own.info.api_base, own.info.user_access_token);
    // The bound the defaults give: failures allowed in a code's life over the codes there are.
    const defaults = loadConfig({
      SUPABASE_URL: "http://x", SUPABASE_DB_URL: "postgres://x", DEVICE_TOKEN_PEPPER: "p".repeat(32),
      DEVICE_STORAGE_DRIVER: "s3", S3_ENDPOINT: "http://s3", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s",
    });
    expect(defaults.activationFailuresPerWindow).toBe(5);
    expect(defaults.pairingTtlSeconds).toBe(600);
    expect(defaults.activationFailuresPerWindow / PAIRING_ALPHABET.length ** PAIRING_CODE_LENGTH).toBeLessThan(2 ** -32);

    for (let i = 0; i < 5; i++) {
      const r = await activate("ZZZZ-ZZZZ");
      expect(r.status).toBe(404);
    }
    const limited = await activate(pairing_code);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(600);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });

    // A new window opens: the code (still valid) works again.
    await startNewWindow();
    expect((await activate(pairing_code)).status).toBe(201);
  });

  it("holds under concurrent guessing: of 30 simultaneous wrong codes, 5 are looked up and 25 refused", async () => {
    await startNewWindow();
    const statuses = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const r = await activate("ZZZZ-ZZZZ");
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
    const [{ n }] = await sql`select count(*)::int as n from public.devices where user_id = ${user.id}`;
    expect(n).toBe(20);
  });
});
