// A hostile sweep over every declared route, read from the route registry (a new route is
// swept without editing this file): hostile ids in paths, bodies of the wrong types field by
// field, nested, oversized and malformed bodies, unicode the database or a screen cannot take,
// huge and malformed headers, and wrong methods. Every request is built to be refused: the
// sweep asserts that each one is (a 4xx with the error shape; a batch may answer 200 with
// every item refused), that none is a 5xx, and that no table of public, device_api or
// processing and no object of the bucket changes.
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { routeSegments } from "../../functions/devices/dispatch.ts";
import { ROUTES } from "../../functions/devices/registry.ts";
import type { Route } from "../../functions/devices/route.ts";
import { MAX_BATCH_BODY_BYTES } from "../../functions/devices/batch.ts";
import { MAX_JSON_BODY_BYTES } from "../../functions/_shared/request.ts";
import { tableChecksums, objectStoreChecksum } from "../support/checksums.ts";
import { concretePath } from "../support/hostile-cases.ts";
import { validHeartbeat } from "../support/lifecycle.ts";
import { activatedDevice, fakeJpeg, ingestBody, sql, stack, uploadPhoto, uploadUrlBody } from "../support/stack.ts";

interface SweepCase {
  kind: string;
  route: Route;
  method: string;
  /** the path after `/devices/` (already percent-encoded where it should be) */
  path: string;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
  /** refused by the HTTP servers in front of the function (too many or too large headers): no API error body */
  beforeFunction?: boolean;
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

const BASE = new URL(stack.api_base);

function send(c: SweepCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, "utf8");
    const headers: Record<string, string | string[]> = { ...c.headers };
    if (body !== undefined) headers["content-length"] = String(body.length);
    const req = request({
      host: BASE.hostname, port: BASE.port, method: c.method, path: `${BASE.pathname}/devices/${c.path}`, headers, agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: parsed });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const isBatch = (r: Route) => typeof r.body === "object" && "batchOf" in r.body;
const schemaOf = (r: Route): z.ZodType | null =>
  r.body === "none" ? null : isBatch(r) ? (r.body as { batchOf: z.ZodType }).batchOf : r.body as z.ZodType;
const fieldsOf = (schema: z.ZodType | null): string[] =>
  Object.keys((schema as unknown as { shape?: Record<string, unknown> } | null)?.shape ?? {});

interface World {
  deviceToken: string;
  deviceId: string;
  userToken: string;
  ownKey: string;
}

/** A body the route would take (so that changing one thing makes it wrong); `{}` for routes it does not know. */
function validExample(route: Route, w: World): Record<string, unknown> {
  const examples: Record<string, Record<string, unknown>> = {
    "POST /devices/pair": { name: "cam" },
    "POST /devices/activate": { pairing_code: "BBBB-BBBB" },
    "POST /devices/upload-url": uploadUrlBody(1),
    "POST /devices/ingest": ingestBody(w.ownKey, 7),
    "POST /devices/heartbeat": validHeartbeat,
    "POST /devices/:device/rename": { name: "cam" },
    "POST /devices/:device/settings": { paused: true },
  };
  const key = `${route.method} ${route.path}`;
  if (isBatch(route)) {
    const item = key === "POST /devices/upload-urls" ? uploadUrlBody(1) : key === "POST /devices/ingest-batch" ? ingestBody(w.ownKey, 7) : {};
    return item;
  }
  return examples[key] ?? {};
}

/** Values of every JSON type and then some: each field of a body takes each in turn. */
const WRONG_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, -0, 2 ** 53 + 2, 1e308, "", " ", "x".repeat(5000), "1", "true", "null", "2026-13-45T99:99:99Z",
  "devices/../../etc/passwd", "' or 1=1 --", "\u202e\u2066x", "\u001b[31m", "x\u0085y", "\ufeff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "e\u0301".repeat(50),
  [], [1, 2, 3], {}, { a: { b: { c: {} } } }, ["x".repeat(100)],
];
// Raw JSON texts JSON.stringify cannot make (unpaired surrogates, NUL, numbers past double).
const WRONG_RAW = ['"\\ud800"', '"\\udfff\\ud800"', '"a\\u0000b"', "1e999", "-1e999", "123456789012345678901234567890"];

const pathOf = (route: Route, params: Record<string, string>) => concretePath(route, { param: (name) => params[name] });

/** Credentials of the route's kind that are valid, and a few that are not. */
function credentials(route: Route, w: World): { valid: Record<string, string>; invalid: Array<Record<string, string | string[]>> } {
  if (route.auth === "user") {
    return {
      valid: { authorization: `Bearer ${w.userToken}` },
      invalid: [{}, { authorization: `Bearer ${"x".repeat(12_000)}` }, { authorization: "Bearer \u00ff\u00fe" },
        { authorization: `Bearer ${w.userToken.slice(0, -4)}` }, { authorization: ["Bearer a.b.c", `Bearer ${w.userToken}`] }],
    };
  }
  if (route.auth === "device") {
    return {
      valid: { "x-device-token": w.deviceToken },
      invalid: [{}, { "x-device-token": `devtok_${"A".repeat(12_000)}` }, { "x-device-token": "devtok_\u00ff\u00e9" },
        { "x-device-token": [w.deviceToken, w.deviceToken] }, { "x-device-token": w.deviceToken, "x-device-boot": "-1", "x-device-uptime-ms": "x" },
        { "x-device-token": w.deviceToken, "x-device-boot": "1".repeat(40), "x-device-uptime-ms": "1" }],
    };
  }
  return { valid: {}, invalid: [] };
}

function sweepCases(w: World): SweepCase[] {
  const out: SweepCase[] = [];
  const ownParams = { device: w.deviceId };
  for (const route of ROUTES) {
    const creds = credentials(route, w);
    const path = pathOf(route, Object.fromEntries(routeSegments(route.path).filter((s) => s.startsWith(":"))
      .map((s) => [s.slice(1), (ownParams as Record<string, string>)[s.slice(1)] ?? randomUUID()])));
    const schema = schemaOf(route);
    const json = { "content-type": "application/json" };
    const add = (kind: string, c: Partial<SweepCase>) =>
      out.push({ kind, route, method: route.method, path, headers: { ...json, ...creds.valid }, ...c });
    // A body this route refuses whatever else: for the cases about headers, ids and methods.
    const refusedBody = route.body === "none" ? "{}" : "[]";
    const mustRefuse = route.body === "none"; // a route that reads no body must be refused by its headers

    // Ids in the path: malformed escapes, traversal, other scripts, far too long, not ours.
    const params = routeSegments(route.path).filter((s) => s.startsWith(":")).map((s) => s.slice(1));
    for (const name of params) {
      for (const id of ["%", "%zz", "%E0%A4%A", "%ED%A0%80", "%C0%AF", "%00", "%2e%2e", "..%2f..%2fpair", "%E2%80%AE" + w.deviceId,
        "%F0%9F%93%B7", "null", "0", "-1", w.deviceId.toUpperCase().replace(/-/g, ""), `${w.deviceId}%00`, `${w.deviceId}x`,
        "a".repeat(3000), randomUUID(), "%25zz", "%u0041"]) {
        add("path id", { path: pathOf(route, { ...ownParams, [name]: id }), body: route.body === "none" ? "{}" : JSON.stringify(validExample(route, w)) });
      }
    }
    // Segments after or in place of the route's own.
    for (const extra of ["/%zz", "/..", "/%2e%2e", "/x".repeat(50), "%00", ".json", ";x", "/%ff"]) {
      // (`..` and `%2e%2e` are dot segments: `/devices/pair/..` is `/devices/`, the listing.)
      add("path extra", { path: `${path}${extra}`, body: refusedBody, ...(mustRefuse ? { headers: json } : {}) });
    }
    // Methods it does not take (OPTIONS is the CORS preflight, answered for every path).
    const taken = new Set<string>(ROUTES.filter((r) => r.path === route.path).map((r) => r.method));
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "PROPFIND"].filter((m) => !taken.has(m))) {
      add("method", { method, body: method === "GET" || method === "HEAD" ? undefined : refusedBody });
    }
    // Headers: credentials that are wrong, oversized or doubled; many and huge other headers.
    for (const bad of creds.invalid) add("credentials", { headers: { ...json, ...bad }, body: mustRefuse ? "{}" : refusedBody });
    const junk = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-junk-${i}`, "y".repeat(20)]));
    const usable = mustRefuse ? {} : creds.valid;
    add("headers", { headers: { ...json, ...usable, ...junk(90) }, body: refusedBody });
    add("headers", { headers: { ...json, ...usable, ...junk(300) }, body: refusedBody, beforeFunction: true });
    add("headers", { headers: { ...json, ...usable, "x-huge": "z".repeat(60_000) }, body: refusedBody, beforeFunction: true });
    add("headers", { headers: { ...json, ...usable, "x-latin1": "\u00ff\u00e9\u00a0" }, body: refusedBody });
    if (route.body === "none") continue;

    // Bodies: media types, encodings, sizes, nesting, malformed JSON.
    const example = validExample(route, w);
    const wrap = (item: string) => (isBatch(route) ? `{"items":[${item}]}` : item);
    const limit = isBatch(route) ? MAX_BATCH_BODY_BYTES : MAX_JSON_BODY_BYTES;
    const text = JSON.stringify(example);
    add("media type", { headers: { ...creds.valid }, body: "[]" });
    for (const type of ["text/plain", "application/json-patch+json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]) {
      add("media type", { headers: { ...creds.valid, "content-type": type }, body: "[]" });
    }
    add("encoding", { headers: { ...creds.valid, "content-type": "application/json; charset=utf-16le" }, body: Buffer.from(wrap(text.replace("{", "{ ")).slice(0, -1), "utf16le") });
    add("encoding", { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("[]")]) });
    add("encoding", { body: Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]) });
    add("malformed", { body: wrap(text).slice(0, -1) });
    add("malformed", { body: wrap(text) + "x" });
    add("malformed", { body: "{".repeat(4000) });
    add("oversize", { body: wrap(JSON.stringify({ ...example, pad: "x".repeat(limit) })) });
    add("oversize", { body: Buffer.alloc(limit + 1, 0x20) });
    for (const depth of [33, 500, 4000]) {
      const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`;
      add("nested", { body: wrap(JSON.stringify({ ...example, deep: "__DEEP__" }).replace('"__DEEP__"', deep)) });
      add("nested", { body: wrap(`{"deep":${"{\"a\":".repeat(Math.min(depth, 1500))}1${"}".repeat(Math.min(depth, 1500))}}`) });
    }
    // Field by field: every wrong value that the route's own schema refuses (so the request
    // must be refused); text Postgres cannot hold is sent whatever the schema says.
    const fields = [...new Set([...fieldsOf(schema), ...Object.keys(example)])];
    for (const field of fields) {
      for (const value of WRONG_VALUES) {
        const candidate = { ...example, [field]: value };
        if (schema?.safeParse(candidate).success) continue;
        add("field", { body: wrap(JSON.stringify(candidate)) });
      }
      for (const raw of WRONG_RAW) {
        const candidate = JSON.stringify({ ...example, [field]: "__RAW__" }).replace('"__RAW__"', raw);
        const parsed = JSON.parse(candidate);
        const unstorable = /\\u0000|\\ud[89a-f]/i.test(raw);
        if (!unstorable && schema?.safeParse(parsed).success) continue;
        add("field", { body: wrap(candidate) });
      }
      const { [field]: _, ...without } = example;
      if (!schema?.safeParse(without).success) add("field", { body: wrap(JSON.stringify(without)) });
    }
    add("field", { body: wrap(JSON.stringify({ ...example, ["\u0000"]: 1 })) });
    add("field", { body: wrap(`{"__proto__":{"admin":true},${text.slice(1)}`) });
    if (isBatch(route)) {
      for (const items of ["[]", "{}", "null", `[${"[],".repeat(40)}[]]`, `[${Array(33).fill(text).join(",")}]`]) {
        add("batch", { body: `{"items":${items}}` });
      }
      add("batch", { body: `{"items":[${text}],"extra":1}` });
    }
  }
  return out;
}

/**
 * Refused: a 4xx with the API's error shape; a batch may refuse every item in a 200. The
 * HTTP servers in front of the function refuse too many headers (400; Deno's server takes
 * 100) and too large ones (431; Node's gateway takes 16 KiB) without reaching it.
 */
function refusal(c: SweepCase, a: Answer): string | null {
  if (a.status >= 500) return `5xx`;
  if (a.status === 200 && isBatch(c.route)) {
    const results = (a.body as { results?: Array<{ status: number; body?: { error?: { code?: string } } }> })?.results;
    if (!Array.isArray(results) || results.length === 0) return "batch without results";
    return results.every((r) => r.status >= 400 && r.status < 500 && r.body?.error?.code) ? null : "a batch item was accepted";
  }
  if (a.status < 400) return "accepted";
  if (c.method === "HEAD") return null; // no body by definition
  if (c.beforeFunction && (a.status === 400 || a.status === 431)) return null;
  const error = (a.body as { error?: { code?: unknown; message?: unknown } })?.error;
  if (!/^application\/json/.test(a.contentType) || typeof error?.code !== "string" || typeof error?.message !== "string") {
    return "no error body";
  }
  return null;
}

let w: World;
beforeAll(async () => {
  const device = await activatedDevice();
  const own = await uploadPhoto(device.token, 7, fakeJpeg());
  w = { deviceToken: device.token, deviceId: device.deviceId, userToken: device.user.token, ownKey: own.object_key };
});

describe("hostile sweep", () => {
  it("every route refuses every hostile request with a 4xx, none is a 5xx, and nothing changes", async () => {
    const cases = sweepCases(w);
    const routesSwept = new Set(cases.map((c) => `${c.route.method} ${c.route.path}`));
    expect([...routesSwept].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const tablesBefore = await tableChecksums();
    const storeBefore = await objectStoreChecksum();

    const wrong: string[] = [];
    const table = new Map<string, Map<number, number>>();
    const IN_FLIGHT = 8;
    for (let i = 0; i < cases.length; i += IN_FLIGHT) {
      await Promise.all(cases.slice(i, i + IN_FLIGHT).map(async (c) => {
        const a = await send(c);
        const row = `${c.route.method} ${c.route.path}`;
        const counts = table.get(row) ?? new Map<number, number>();
        counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
        table.set(row, counts);
        const why = refusal(c, a);
        if (why) wrong.push(`${why}: ${c.kind} ${c.method} /devices/${c.path.slice(0, 80)} ${String(c.body ?? "").slice(0, 100)} → ${a.status} ${JSON.stringify(a.body).slice(0, 160)}`);
      }));
    }

    const statuses = [...new Set([...table.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const lines = [`${"route".padEnd(34)}${statuses.map((s) => String(s).padStart(6)).join("")}  total`];
    for (const [row, counts] of [...table].sort()) {
      const total = [...counts.values()].reduce((x, y) => x + y, 0);
      lines.push(`${row.padEnd(34)}${statuses.map((s) => String(counts.get(s) ?? "").padStart(6)).join("")}  ${total}`);
    }
    console.log(`hostile sweep: ${cases.length} requests over ${routesSwept.size} routes\n${lines.join("\n")}`);

    expect(wrong).toEqual([]);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(await tableChecksums()).toEqual(tablesBefore);
    expect(await objectStoreChecksum()).toEqual(storeBefore);
  }, 600_000);
});
