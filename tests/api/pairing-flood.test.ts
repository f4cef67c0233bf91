// Pairing under a flood: one anonymous source sends wrong codes as fast as it may, across
// all 400 lookup prefixes, for 10 minutes; other users' codes stay activatable.
//
// The 10 minutes are simulated in SQL time: every limit the flood meets keeps its state in
// device_api.rate_limit_windows, so moving every window's start back by N seconds is, to
// the limiter, N seconds passing (the same device activation-limit.test.ts uses). The
// victims' codes are left in real time, so the flood meets the very same live codes for
// the whole simulated run (a real run would see them expire and be replaced).
// Runs its own stack with the default limits.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAIRING_ALPHABET, PAIRING_CODE_LENGTH, normalizePairingCode } from "../../functions/_shared/auth/pairing-code.ts";
import { pairDevice } from "../../scripts/cli/api.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { postFrom, type RawResult, sourceAddress } from "../support/from-address.ts";
import { defaults, letTimePass } from "../support/rate-limits.ts";
import { tempDir } from "../support/temp.ts";

let own: Stack;
let sql: postgres.Sql;
beforeAll(async () => {
  own = await startStack({ workDir: await tempDir("lifelog-flood-"), ports: "random" });
  sql = postgres(own.info.db_url, { onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await own?.stop();
});



const SIMULATED_SECONDS = 600;
const STEP_SECONDS = 12;
const REQUESTS_PER_STEP = 48; // 50 steps x 48 = 2,400 requests: every prefix 6 times
const IN_FLIGHT = 10;

/** The i-th wrong code of the flood: prefix i mod 400, the rest pseudo-random. */
function floodCode(i: number): string {
  const a = PAIRING_ALPHABET;
  const prefix = a[Math.floor(i / a.length) % a.length] + a[i % a.length];
  let x = (i + 1) * 2654435761;
  let rest = "";
  for (let j = 0; j < PAIRING_CODE_LENGTH - 2; j++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    rest += a[x % a.length];
  }
  return prefix + rest;
}

describe("pairing under a flood", () => {
  it("one source flooding wrong codes over every prefix for 10 minutes locks no one's code", async () => {
    const F = defaults.activationFailuresPerSource;
    const K = defaults.activationFailuresPerCode;

    const victims: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { accessToken } = await own.createUser();
      victims.push((await pairDevice(own.info.api_base, accessToken)).pairing_code);
    }
    const victimCodes = new Set(victims.map((c) => normalizePairingCode(c)!));
    const victimPrefixes = new Set([...victimCodes].map((c) => c.slice(0, 2)));

    const attacker = sourceAddress(0);
    const statuses = new Map<number, number>();
    let sent = 0;
    let admitted = 0; // wrong codes the database looked up (404), as opposed to refused up front (429)
    let retryAfterSeen = 0;
    const realStart = Date.now();
    for (let t = 0; t < SIMULATED_SECONDS; t += STEP_SECONDS) {
      const burst = Array.from({ length: REQUESTS_PER_STEP }, (_, k) => floodCode(sent + k))
        .filter((c) => !victimCodes.has(c));
      for (let i = 0; i < burst.length; i += IN_FLIGHT) {
        const results: RawResult[] = await Promise.all(burst.slice(i, i + IN_FLIGHT).map((code, k) =>
          // A forged address on every request: the gateway overwrites it, as the platform's edge does.
          postFrom(`${own.info.api_base}/devices/activate`, { pairing_code: code }, attacker, {
            "cf-connecting-ip": `203.0.113.${(sent + i + k) % 250}`, "x-forwarded-for": `198.51.100.${(sent + i + k) % 250}`,
          })));
        for (const r of results) {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 404) admitted++;
          if (r.status === 429) {
            expect(r.body.error?.code).toBe("rate_limited");
            expect(r.retryAfter).toBeGreaterThan(0);
            retryAfterSeen = Math.max(retryAfterSeen, r.retryAfter ?? 0);
          }
        }
      }
      sent += REQUESTS_PER_STEP;
      await letTimePass(sql, STEP_SECONDS);
    }
    // The flood's length on the limiter's clock: the simulated steps plus the real time they took.
    const spanSeconds = SIMULATED_SECONDS - STEP_SECONDS + (Date.now() - realStart) / 1000;
    expect(sent).toBeGreaterThanOrEqual(K * 400);
    const rows = await sql<{ failed_guesses: number }[]>`
      select failed_guesses from public.device_pairing_codes where used_at is null and expires_at > now()`;
    expect(rows.length).toBe(victims.length);
    const outcomes = await Promise.all(victims.map((code, i) =>
      postFrom(`${own.info.api_base}/devices/activate`, { pairing_code: code }, sourceAddress(100 + i))));
    expect(outcomes.map((r) => `${r.status} ${r.body.error?.code ?? ""}`)).toEqual(victims.map(() => "201 "));
    expect(Math.max(...rows.map((r) => r.failed_guesses))).toBeLessThanOrEqual(1); // one source, counted once

    expect([...statuses.keys()].every((s) => s === 404 || s === 429)).toBe(true);
    // The source's bound: F wrong codes per 10 minutes (the window), however fast it sends; a
    // flood a little longer than 10 minutes on the limiter's clock may meet a second window, and
    // the limiter counts in slots of a tenth of the window (device_api.rate_limit_slot_seconds),
    // so a flood within one slot of the window may meet it too (the real seconds cross a slot edge).
    const windows = 1 + Math.floor((spanSeconds + SIMULATED_SECONDS / 10) / SIMULATED_SECONDS);
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(F * windows);

    console.log(`pairing flood: one source, ${sent} wrong codes over all 400 prefixes in ${SIMULATED_SECONDS} simulated s ` +
      `(${REQUESTS_PER_STEP} per ${STEP_SECONDS} s step, ${IN_FLIGHT} in flight, forged CF-Connecting-IP/X-Forwarded-For on each); ` +
      `${Math.round(spanSeconds)} s on the limiter's clock; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${admitted} reached a lookup (bound ${F} per source ` +
      `per ${SIMULATED_SECONDS} s: ${F * windows} in ${windows} window(s)), longest Retry-After ${retryAfterSeen} s; victims' prefixes ${victimPrefixes.size}, ` +
      `max failed_guesses ${Math.max(...rows.map((r) => r.failed_guesses))} (locks at ${K} sources); ` +
      `${outcomes.length}/${victims.length} victims' codes activated`);
  }, 300_000);

  it("the global failure cap is out of one source's reach", () => {
    // One source's failures in any minute are at most F, far below the cap of all clients together.
    expect(defaults.activationFailuresPerSource).toBeLessThan(defaults.activationFailuresPerMinute / 10);
  });
});
