// The guessing bound and the rate limits' windows, with the default settings (this file
// runs its own stack). A source (client address) takes a few failed activations per 10
// minutes; its wrong codes count once against the live pairings whose first letters they
// share, for their whole life: no window edge to guess across, and no one source can hold
// back the activations of pairings whose letters it does not know.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  normalizePairingCode, PAIRING_ALPHABET, PAIRING_CODE_LENGTH, PAIRING_LOOKUP_PREFIX_LENGTH,
} from "../../functions/_shared/auth/pairing-code.ts";
import { pairDevice } from "../../scripts/cli/api.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { postFrom, sourceAddress } from "../support/from-address.ts";
import { defaults, letTimePass } from "../support/rate-limits.ts";
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



/** An activation from test source `source` (see support/from-address.ts); its status. */
async function activate(code: string, source = 0): Promise<number> {
  return (await postFrom(`${own.info.api_base}/devices/activate`, { pairing_code: code }, sourceAddress(source))).status;
}

/** A wrong code: the same first letters as `code` when `samePrefix`, other ones otherwise. */
function wrongCode(code: string, samePrefix: boolean, i: number): string {
  const right = normalizePairingCode(code)!;
  const k = PAIRING_LOOKUP_PREFIX_LENGTH;
  const letter = (n: number) => PAIRING_ALPHABET[n % PAIRING_ALPHABET.length];
  let prefix = right.slice(0, k);
  if (!samePrefix) prefix = letter(PAIRING_ALPHABET.indexOf(right[0]) + 1 + (i % 19)) + letter(i);
  let rest = Array.from({ length: PAIRING_CODE_LENGTH - k }, (_, j) => letter(i * 7 + j * 3)).join("");
  if (prefix + rest === right) rest = rest.split("").reverse().join("") + "";
  return prefix + rest === right ? prefix + letter(1).repeat(rest.length) : prefix + rest;
}

const pairFor = async () => (await pairDevice(own.info.api_base, (await own.createUser()).accessToken)).pairing_code;

describe("activation guessing bound", () => {
  const K = defaults.activationFailuresPerCode;
  const F = defaults.activationFailuresPerSource;
  let nextSource = 1000; // sources of this describe: each test takes fresh ones
  const fresh = () => nextSource++;

  it("a code takes wrong guesses of at most DEVICE_ACTIVATION_FAILURES sources in its life, also across window edges", async () => {
    expect(K).toBe(5);
    expect(F).toBe(5);
    // Wrong guesses with the code's letters, each from a source of its own, before the right
    // one; time passes halfway so that every rate-limit window starts anew.
    const outcome: Record<number, number> = {};
    for (let wrong = 0; wrong <= K + 1; wrong++) {
      const code = await pairFor();
      for (let i = 0; i < wrong; i++) {
        if (i === Math.floor(wrong / 2)) await letTimePass(sql, 3600);
        expect(await activate(wrongCode(code, true, i), fresh())).toBe(404);
      }
      outcome[wrong] = await activate(code, fresh());
    }
    const survived = Object.entries(outcome).filter(([, s]) => s === 201).map(([w]) => Number(w));
    const lockedFrom = Math.min(...Object.entries(outcome).filter(([, s]) => s !== 201).map(([w]) => Number(w)));
    expect(survived).toEqual(Array.from({ length: lockedFrom }, (_, i) => i)); // every count below the limit works
    expect(outcome[lockedFrom]).toBe(410);
    expect(lockedFrom).toBe(K);
  });

  it("the guessing bound: K-1 sources each at their limit leave the code working; one more source locks it", async () => {
    const code = await pairFor();
    for (let s = 0; s < K - 1; s++) {
      const source = fresh();
      for (let i = 0; i < F; i++) expect(await activate(wrongCode(code, true, s * F + i), source)).toBe(404);
      expect(await activate(wrongCode(code, true, 99), source)).toBe(429); // the source's limit
    }
    const [row] = await sql`select failed_guesses from public.device_pairing_codes
                             where code_hash is not null and used_at is null order by created_at desc limit 1`;
    expect(row.failed_guesses).toBe(K - 1);
    // The most guesses a code can take in its life (its default life is the sources' window):
    // F from each of K-1 sources, one from the source that locks it, and the right one.
    const guessesPerLife = (K - 1) * F + 1;
    const secretSpace = PAIRING_ALPHABET.length ** (PAIRING_CODE_LENGTH - PAIRING_LOOKUP_PREFIX_LENGTH);
    const bound = guessesPerLife / secretSpace;
    console.log(`guessing bound: a pairing code takes at most ${guessesPerLife} wrong guesses in its life ` +
      `(${F} per source per 10 min, sources counted until ${K}); P(guessed) <= ${guessesPerLife}/${secretSpace} = ` +
      `${bound.toExponential(3)} = 2^${Math.log2(bound).toFixed(2)}`);
    expect(bound).toBeLessThan(2 ** -21);
    expect(await activate(code, fresh())).toBe(201);
  });

  it("the locked code answers 410 pairing_code_locked, and stays unused", async () => {
    const code = await pairFor();
    for (let i = 0; i < K; i++) await activate(wrongCode(code, true, i), fresh());
    const r = await postFrom(`${own.info.api_base}/devices/activate`, { pairing_code: code }, sourceAddress(fresh()));
    expect(r.status).toBe(410);
    expect(r.body).toMatchObject({ error: { code: "pairing_code_locked" } });
    const [row] = await sql`select used_at, failed_guesses from public.device_pairing_codes where failed_guesses >= ${K} order by created_at desc limit 1`;
    expect(row.used_at).toBeNull();
    expect(row.failed_guesses).toBe(K);
  });

  it("holds under concurrent guessing: 30 simultaneous wrong codes with its letters from 30 sources all count", async () => {
    const code = await pairFor();
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => activate(wrongCode(code, true, i), fresh())));
    expect(statuses.every((s) => s === 404)).toBe(true);
    expect(await activate(code, fresh())).toBe(410);
  });

  it("one source cannot lock a code: 60 simultaneous wrong codes with its letters, then the owner's code works", async () => {
    const code = await pairFor();
    const source = fresh();
    const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => activate(wrongCode(code, true, i), source)));
    expect(statuses.filter((s) => s === 404)).toHaveLength(F);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - F);
    expect(await activate(code, fresh())).toBe(201);
  });

  it("no anonymous client holds back others: 100 wrong codes with other letters leave the owner's code working", async () => {
    const code = await pairFor();
    const source = fresh();
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => activate(wrongCode(code, false, i), source)));
    expect(statuses.every((s) => s === 404 || s === 429)).toBe(true);
    expect(await activate(code, fresh())).toBe(201);
  });
});

describe("sliding windows", () => {
  it("pairing: 20 an hour, and 59 minutes later still none, whatever the clock says; after the hour, again", async () => {
    const { user, accessToken } = await own.createUser();
    const pair = async () => {
      const r = await fetch(`${own.info.api_base}/devices/pair`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` }, body: "{}",
      });
      await r.body?.cancel();
      return { status: r.status, retryAfter: Number(r.headers.get("retry-after")) };
    };
    const first = await Promise.all(Array.from({ length: 26 }, pair));
    expect(first.filter((r) => r.status === 201)).toHaveLength(defaults.pairingsPerHour);
    expect(first.filter((r) => r.status === 429)).toHaveLength(6);
    await letTimePass(sql, 59 * 60); // an aligned hour would have begun by now; a sliding one has not
    const late = await pair();
    expect(late.status).toBe(429);
    expect(late.retryAfter).toBeGreaterThan(0);
    expect(late.retryAfter).toBeLessThanOrEqual(7 * 60); // the window and one slot (6 min) after the hits
    await letTimePass(sql, late.retryAfter);
    expect((await pair()).status).toBe(201);
    const [{ n }] = await sql`select count(*)::int as n from public.devices where user_id = ${user.id}`;
    expect(n).toBe(defaults.pairingsPerHour + 1);
  });

  it("no interval of a window's length ever holds more than the limit (SQL limiter, hits spread over slots)", async () => {
    // 12 hits allowed per 600 s; hits arrive in 13 rounds 55 s apart (time moved by hand).
    const allowed: number[] = [];
    for (let round = 0; round < 13; round++) {
      for (let i = 0; i < 3; i++) {
        const ok = await sql`select device_api.take_rate_limit('test:spread', 12, 600, 'tests')`
          .then(() => true, (e) => { expect(e.code).toBe("LD429"); return false; });
        if (ok) allowed.push(round * 55);
      }
      await letTimePass(sql, 55);
    }
    for (const start of allowed) {
      expect(allowed.filter((t) => t >= start && t < start + 600).length).toBeLessThanOrEqual(12);
    }
    expect(allowed.length).toBeGreaterThan(12); // it does let hits through again as the window slides
  });
});
