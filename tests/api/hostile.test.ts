// The hostile suite: hundreds of malformed and abusive requests across every route. Each
// gets its documented status and code, none a 5xx, and the checksums of every table and
// of the object store are the same afterwards (see support/checksums.ts for the counters
// that are left out on purpose).
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { generateDeviceToken } from "../../functions/_shared/auth/device-token.ts";
import { ROUTES } from "../../functions/devices/registry.ts";
import { objectStoreChecksum, tableChecksums } from "../support/checksums.ts";
import { genericCases, type HostileCase } from "../support/hostile-cases.ts";
import { forgeUserJwt } from "../support/jwt.ts";
import { heartbeat, rotate, validHeartbeat } from "../support/lifecycle.ts";
import {
  activatedDevice, deviceHeaders, expirePairingCode, fakeJpeg, ingestBody, newUser, pairDevice, post, sql, stack,
  uploadPhoto,
} from "../support/stack.ts";

type Case = HostileCase;

interface World {
  user: { id: string; token: string };
  device: { token: string; deviceId: string };
  revoked: { token: string };
  /** a token whose successor (POST /devices/rotate) has been used: it is dead */
  rotatedAway: string;
  otherKey: string;
  ownKey: string;
  ingestedKey: string;
  usedCode: string;
  expiredCode: string;
  /** a device of `user` (the per-device owner routes' `:device`) */
  ownDeviceId: string;
  jwts: Record<string, string>;
}

let w: World;
beforeAll(async () => {
  const user = await newUser();
  const device = await activatedDevice();
  const other = await activatedDevice();
  const revoked = await activatedDevice();
  await sql`update public.devices set revoked_at = now() where id = ${revoked.deviceId}`;
  const rotating = await activatedDevice();
  const rotated = await rotate(rotating.token);
  if (rotated.status !== 200 && rotated.status !== 201) throw new Error(`rotate failed: ${rotated.status} ${JSON.stringify(rotated.body)}`);
  const proven = await heartbeat(rotated.body.device_token);
  if (proven.status !== 200) throw new Error(`heartbeat with the new token failed: ${proven.status} ${JSON.stringify(proven.body)}`);
  const otherTarget = await uploadPhoto(other.token, 1, fakeJpeg());
  const own = await uploadPhoto(device.token, 7, fakeJpeg());
  const ingested = await uploadPhoto(device.token, 8, fakeJpeg());
  expect((await post("ingest", ingestBody(ingested.object_key, 8), deviceHeaders(device.token))).status).toBe(201);
  const used = await pairDevice(user.token);
  expect((await post("activate", { pairing_code: used.pairing_code })).status).toBe(201);
  const expired = await pairDevice(user.token);
  await expirePairingCode(expired.device_id);
  w = {
    user, device, revoked, rotatedAway: rotating.token, otherKey: otherTarget.object_key, ownKey: own.object_key, ingestedKey: ingested.object_key,
    usedCode: used.pairing_code, expiredCode: expired.pairing_code, ownDeviceId: used.device_id,
    jwts: {
      foreign: await forgeUserJwt({ foreignKey: true }),
      expired: await forgeUserJwt({ exp: "-1m" }),
      noExp: await forgeUserJwt({ exp: null }),
      subNotUuid: await forgeUserJwt({ sub: "admin" }),
      subUnknown: await forgeUserJwt({ sub: randomUUID() }),
      anon: await forgeUserJwt({ role: "anon" }),
      wrongAud: await forgeUserJwt({ aud: "service_role" }),
      wrongIss: await forgeUserJwt({ iss: "https://evil.example/auth/v1" }),
    },
  };
});

const json = (v: unknown) => JSON.stringify(v);
const withField = (base: Record<string, unknown>, field: string, raw: string) =>
  json({ ...base, [field]: "__RAW__" }).replace('"__RAW__"', raw);

function cases(): Case[] {
  const out: Case[] = [];
  const dev = deviceHeaders(w.device.token);
  const bearer = { authorization: `Bearer ${w.user.token}` };
  const upload = { filename: "a.jpg", content_type: "image/jpeg", seq: 1 };
  const ingest = ingestBody(w.ownKey, 7);
  // What every declared route gets, from the registry (support/hostile-cases.ts).
  out.push(...genericCases(ROUTES, {
    credentials: (r) => r.auth === "user" ? bearer : r.auth === "device" ? dev : {},
    param: (name) => ({ device: w.ownDeviceId } as Record<string, string>)[name],
  }));
  // Routes that do not exist (traversal variants included).
  for (const route of ["PAIR", "pair/extra", "..%2fpair", "%2e%2e", "pair%00", "upload_url", "ingest.json", "..;/pair"]) {
    out.push({ name: `route ${json(route)}`, route, body: "{}", expect: [404, "not_found"] });
  }
  // The bare /devices (and /devices/devices, which ends the same way) is the owner's GET listing.
  for (const route of ["", "devices"]) {
    out.push({ name: `route ${json(route)} POST`, route, body: "{}", expect: [405, "method_not_allowed"] });
  }

  // pair: every way a user token can be wrong; and bad names.
  const userTokens: Array<[string, string, string]> = [
    ["none", "", "missing_authorization"], ["Basic", "Basic dXNlcjpwYXNz", "missing_authorization"],
    ["Bearer only", "Bearer", "missing_authorization"], ["two tokens", `Bearer ${w.user.token} ${w.user.token}`, "missing_authorization"],
    ["garbage", "Bearer not.a.jwt", "invalid_authorization"], ["alg none", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "invalid_authorization"],
    ["truncated", `Bearer ${w.user.token.slice(0, -10)}`, "invalid_authorization"],
    ["bit flipped", `Bearer ${w.user.token.slice(0, -2)}${w.user.token.endsWith("A") ? "B" : "A"}${w.user.token.slice(-1)}`, "invalid_authorization"],
    ...Object.entries(w.jwts).filter(([k]) => k !== "subUnknown").map(([k, t]) => [`forged ${k}`, `Bearer ${t}`, "invalid_authorization"] as [string, string, string]),
  ];
  for (const [name, value, code] of userTokens) {
    out.push({ name: `pair token ${name}`, route: "pair", body: "{}", headers: value ? { authorization: value } : {}, expect: [401, code] });
  }
  out.push({ name: "pair unknown user", route: "pair", body: "{}", headers: { authorization: `Bearer ${w.jwts.subUnknown}` }, expect: [401, "unknown_user"] });
  for (const raw of ["1", "true", "[]", "{}", '""', '"   "', json("x".repeat(65)), '"cam\\u0000"', '"\\ud800cam"']) {
    out.push({ name: `pair name ${raw}`, route: "pair", body: `{"name":${raw}}`, headers: bearer, expect: [400, "invalid_request"] });
  }

  // activate: codes that are not, used and expired codes, bad keys.
  const notCodes = ["", "BBBB-BBBB", "bbbb bbbb", "AAAA-AAAA", "BBBB-BBB", "BBBB-BBBBB", "\u202eBBBB-BBBB", "BBBB\u200fBBBB",
    "BBBB‐BBBB", "ＢＢＢＢ-ＢＢＢＢ", "../../etc", "' or 1=1 --", "%42BBB-BBBB", "BBBB-BBB\u0301"];
  for (const code of notCodes) out.push({ name: `activate ${json(code)}`, route: "activate", body: json({ pairing_code: code }), expect: [404, "pairing_code_invalid"] });
  for (const raw of ["1", "null", "[]", "{}", json("B".repeat(33)), '"BBBB\\u0000BBBB"']) {
    out.push({ name: `activate code ${raw}`, route: "activate", body: `{"pairing_code":${raw}}`, expect: [400, "invalid_request"] });
  }
  out.push({ name: "activate without code", route: "activate", body: "{}", expect: [400, "invalid_request"] });
  for (const key of ["short", "x".repeat(129), "has space in it ok?", "ключ-ключ-ключ-ключ", 12345678901234567890]) {
    out.push({ name: `activate key ${json(key)}`, route: "activate", body: json({ pairing_code: w.usedCode, activation_key: key }), expect: [400, "invalid_request"] });
  }
  for (const spelling of [w.usedCode, w.usedCode.toLowerCase(), w.usedCode.replace("-", ""), ` ${w.usedCode} `]) {
    out.push({ name: `activate used ${spelling}`, route: "activate", body: json({ pairing_code: spelling }), expect: [409, "pairing_code_used"] });
    out.push({ name: `activate used ${spelling} with a key`, route: "activate", body: json({ pairing_code: spelling, activation_key: "k".repeat(20) }), expect: [409, "pairing_code_used"] });
  }
  for (const spelling of [w.expiredCode, w.expiredCode.toLowerCase()]) {
    out.push({ name: `activate expired ${spelling}`, route: "activate", body: json({ pairing_code: spelling }), expect: [410, "pairing_code_expired"] });
  }

  // Device tokens: missing, malformed, mistyped, unknown, revoked, doubled.
  const t = w.device.token;
  const deviceTokens: Array<[string, string | undefined, string]> = [
    ["missing", undefined, "missing_token"], ["empty", "", "missing_token"], ["short", "devtok_abc", "malformed_token"],
    ["bearer", `Bearer ${t}`, "malformed_token"], ["lowercase", t.toLowerCase(), "malformed_token"],
    ["checksum typo", t.slice(0, -1) + (t.endsWith("A") ? "B" : "A"), "malformed_token"],
    ["random typo", t.slice(0, 10) + (t[10] === "x" ? "y" : "x") + t.slice(11), "malformed_token"],
    ["longer", `${t}0`, "malformed_token"], ["prefix only", "devtok_", "malformed_token"],
    ["other prefix", t.replace("devtok_", "devtok-"), "malformed_token"], ["unicode", t.slice(0, -1) + "é", "malformed_token"],
    ["unknown", generateDeviceToken(), "invalid_token"], ["another unknown", generateDeviceToken(), "invalid_token"],
    ["revoked", w.revoked.token, "token_revoked"], ["doubled", `${t}, ${t}`, "malformed_token"],
  ];
  for (const route of ["upload-url", "ingest"]) {
    const body = route === "upload-url" ? json(upload) : json(ingest);
    for (const [name, value, code] of deviceTokens) {
      if (value !== undefined && /[^\x20-\x7e]/.test(value)) continue; // not sendable as a header
      out.push({ name: `${route} token ${name}`, route, body, headers: value === undefined ? {} : { "x-device-token": value }, expect: [401, code] });
    }
  }
  // A token whose successor (POST /devices/rotate) has been used is refused (401) on every device route.
  for (const route of ["upload-url", "ingest", "heartbeat", "rotate"]) {
    const body = route === "upload-url" ? json(upload) : route === "ingest" ? json(ingest) : route === "heartbeat" ? json(validHeartbeat) : "{}";
    out.push({ name: `${route} rotated-away token`, route, body, headers: { "x-device-token": w.rotatedAway }, expect: [401, "token_rotated"] });
  }

  // upload-url: wrong types, huge/negative/fractional numbers, traversal, RTL marks.
  const badUploads: Array<[string, string, [number, string]]> = [];
  for (const v of ["-1", "1.5", "\"1\"", "null", "true", "[]", "{}", "4294967296", "9007199254740992", "1e308", "-1e308", "1e-7", "18446744073709551615"]) {
    badUploads.push(["seq", v, [400, "invalid_request"]]);
  }
  for (const v of ["0", "-5", "2.5", "\"10\"", "null", "1e20", "9007199254740993"]) badUploads.push(["size", v, [400, "invalid_request"]]);
  badUploads.push(["size", "52428800", [413, "photo_too_large"]], ["size", "10485761", [413, "photo_too_large"]]);
  for (const v of ["1", "null", "[]", '""', json("a".repeat(129) + ".jpg"), '"../../x.jpg"', '"..%2f..%2fx.jpg"', '"a/b.jpg"', '"a\\\\b.jpg"',
    '"..jpg"', '".jpg"', '".hidden.jpg"', '"x.png"', '"x.jpg.exe"', '"x.jpg\\u0000"', '"\\u202ex.jpg"', '"x\\u200f.jpg"', '"%00.jpg"',
    '"x .jpg"', '"C:\\\\x.jpg"', '"~/x.jpg"', '"x.JPG/"', '"...jpg"']) {
    badUploads.push(["filename", v, [400, "invalid_request"]]);
  }
  for (const v of ["1", "null", json("x".repeat(101)), '"image/jpeg\\u0000"']) badUploads.push(["content_type", v, [400, "invalid_request"]]);
  for (const v of ['"image/gif"', '"text/html"', '"image/jpeg; charset=x"', '"IMAGE/JPEG"', '""']) badUploads.push(["content_type", v, [415, "unsupported_content_type"]]);
  for (const v of ['"abc"', "1", json("g".repeat(64)), json("a".repeat(63)), json("a".repeat(65))]) badUploads.push(["sha256", v, [400, "invalid_request"]]);
  for (const [field, raw, expected] of badUploads) {
    out.push({ name: `upload-url ${field}=${raw.slice(0, 40)}`, route: "upload-url", body: withField(upload, field, raw), headers: dev, expect: expected });
  }
  for (const field of ["filename", "content_type", "seq"]) {
    const { [field]: _, ...rest } = upload as Record<string, unknown>;
    out.push({ name: `upload-url without ${field}`, route: "upload-url", body: json(rest), headers: dev, expect: [400, "invalid_request"] });
  }
  out.push({ name: "upload-url for an ingested seq", route: "upload-url", body: json({ ...upload, seq: 8 }), headers: dev, expect: [409, "already_ingested"] });
  out.push({ name: "upload-url seq held with another type", route: "upload-url", body: json({ ...upload, seq: 7, size: 1 }), headers: dev, expect: [409, "seq_conflict"] });

  // ingest: keys, dates, metadata, seq and types.
  const badIngests: Array<[string, string, [number, string]]> = [];
  for (const v of ['""', "1", "null", '"x/y.jpg"', '"/devices/x.jpg"', json(`devices/${"a".repeat(600)}`), `"devices/${w.device.deviceId}/../x.jpg"`,
    '"devices/./x.jpg"', '"devices/x/../../y"', '"devices/x\\u0000.jpg"', '"devices/\\ud800"', '"DEVICES/x.jpg"', '"../devices/x.jpg"']) {
    badIngests.push(["object_key", v, [400, "invalid_request"]]);
  }
  for (const v of [json(w.otherKey), json(`devices/${w.device.deviceId}/made-up.jpg`), json(`devices/${w.device.deviceId}/%2e%2e/x.jpg`),
    json(w.ownKey.toUpperCase().replace("DEVICES/", "devices/")), json(`${w.ownKey}x`), json(`devices/${w.device.deviceId}//x.jpg`), '"devices/\\u202ex.jpg"']) {
    badIngests.push(["object_key", v, [403, "object_key_forbidden"]]);
  }
  for (const v of ['""', "1", "null", '"yesterday"', '"2026-11-26"', '"2026-11-26T10:15:30"', '"2026-13-01T00:00:00Z"', '"2026-02-30T00:00:00Z"',
    '"0000-01-01T00:00:00+01:00"', '"-000001-01-01T00:00:00Z"', '"+275760-09-13T00:00:00Z"', '"9999-12-31T23:59:59Z"',
    '"1969-12-31T23:59:59Z"', '"1900-01-01T00:00:00Z"', '"2999-01-01T00:00:00Z"', '"2026-11-26T25:00:00Z"', '"2026-11-26T10:15:30+24:00"',
    '"\\u202e2026-11-26T10:15:30Z"']) {
    badIngests.push(["captured_at", v, [400, "invalid_request"]]);
  }
  for (const v of ["[]", '"x"', "1", "true", '{"a\\u0000":1}', '{"a":"\\u0000"}', '{"a":"\\ud800"}', '{"\\udc00":1}', '{"__proto__":{"x":1}}',
    '{"a":{"__proto__":1}}', '{"a":["\\u0000"]}', json({ pad: "x".repeat(5000) })]) {
    badIngests.push(["metadata", v, [400, "invalid_request"]]);
  }
  for (const v of ["-1", "1.5", '"7"', "null", "4294967296", "1e308"]) badIngests.push(["seq", v, [400, "invalid_request"]]);
  badIngests.push(["seq", "6", [409, "seq_conflict"]], ["seq", "0", [409, "seq_conflict"]]);
  for (const v of ['"yes"', "1", "null", "[]"]) badIngests.push(["ntp_synced", v, [400, "invalid_request"]]);
  for (const v of ['"image/png"', '"text/html"']) badIngests.push(["content_type", v, [415, "unsupported_content_type"]]);
  for (const [field, raw, expected] of badIngests) {
    out.push({ name: `ingest ${field}=${raw.slice(0, 40)}`, route: "ingest", body: withField(ingest, field, raw), headers: dev, expect: expected });
  }
  for (const field of ["object_key", "captured_at", "seq"]) {
    const { [field]: _, ...rest } = ingest as Record<string, unknown>;
    out.push({ name: `ingest without ${field}`, route: "ingest", body: json(rest), headers: dev, expect: [400, "invalid_request"] });
  }
  out.push({ name: "ingest another user's device's photo with its seq", route: "ingest", body: json(ingestBody(w.otherKey, 1)), headers: dev, expect: [403, "object_key_forbidden"] });
  return out;
}

async function send(c: Case): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const headers: Record<string, string> = { "content-type": "application/json", ...c.headers };
  const res = await fetch(`${stack.api_base}/devices/${c.route}`, {
    method: c.method ?? "POST",
    headers,
    body: c.method && c.method !== "POST" && c.method !== "PUT" && c.method !== "PATCH" && c.method !== "DELETE" ? undefined : c.body ?? "",
  });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* kept as text */ }
  return { status: res.status, body, retryAfter: res.headers.get("retry-after") };
}

/** A request with a header sent twice on the wire (fetch would merge them). */
function sendDoubledHeader(route: string, name: string, values: string[], body: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${stack.api_base}/devices/${route}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST",
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), [name]: values } },
    (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("hostile suite", () => {
  it("every hostile request gets its documented status and code, no 5xx, and nothing changes", async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(300);
    const tablesBefore = await tableChecksums();
    const storeBefore = await objectStoreChecksum();

    const wrong: string[] = [];
    const statusCounts = new Map<number, number>();
    for (let i = 0; i < all.length; i += 8) {
      await Promise.all(all.slice(i, i + 8).map(async (c) => {
        const r = await send(c);
        statusCounts.set(r.status, (statusCounts.get(r.status) ?? 0) + 1);
        const code = (r.body as { error?: { code?: string; message?: string } })?.error?.code;
        const message = (r.body as { error?: { message?: string } })?.error?.message ?? "";
        if (r.status !== c.expect[0] || code !== c.expect[1] || message.length < 8) {
          wrong.push(`${c.name}: got ${r.status} ${JSON.stringify(r.body).slice(0, 160)}, want ${c.expect.join(" ")}`);
        }
      }));
    }
    // Headers doubled on the wire.
    const doubled = [
      await sendDoubledHeader("upload-url", "x-device-token", [w.device.token, w.device.token], json({ filename: "a.jpg", content_type: "image/jpeg", seq: 1 })),
      // Node (the gateway stand-in) keeps the first of doubled Authorization headers
      await sendDoubledHeader("pair", "authorization", ["Bearer not.a.jwt", `Bearer ${w.user.token}`], "{}"),
      await sendDoubledHeader("ingest", "x-device-token", [w.device.token, generateDeviceToken()], json(ingestBody(w.ownKey, 7))),
    ];
    for (const d of doubled) {
      if (d.status !== 401) wrong.push(`doubled header: got ${d.status} ${d.body.slice(0, 120)}`);
    }

    expect(wrong).toEqual([]);
    expect([...statusCounts.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(await tableChecksums()).toEqual(tablesBefore);
    expect(await objectStoreChecksum()).toEqual(storeBefore);
    console.log(`hostile suite: ${all.length + doubled.length} requests; statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort()))}; ` +
      "table and object-store checksums unchanged");
  });
});
