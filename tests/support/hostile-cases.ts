// The hostile cases every declared route gets, read from the route registry: broken and
// misshapen JSON, wrong media types, oversized and deep bodies, text Postgres cannot hold,
// wrong methods and missing or malformed credentials. A route added to the registry is
// covered without editing any test.
import { MAX_BATCH_BODY_BYTES } from "../../functions/devices/batch.ts";
import { routeSegments } from "../../functions/devices/dispatch.ts";
import type { Route } from "../../functions/devices/route.ts";
import { MAX_JSON_BODY_BYTES } from "../../functions/_shared/request.ts";

export interface HostileCase {
  name: string;
  /** the path after `/devices/` */
  route: string;
  body?: string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  method?: string;
  expect: [number, string];
}

export interface HostileWorld {
  /** valid credentials of the route's auth kind */
  credentials(route: Route): Record<string, string>;
  /** a value for each `:name` path segment (one the caller owns) */
  param(name: string): string;
}

const json = (v: unknown) => JSON.stringify(v);
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];
const BROKEN_JSON = ["", "{", "}", "[", "{\"a\":", "{\"seq\":1", "{\"a\":1,}", "{'a':1}", "{a:1}", "nul", "tru", "\u0000",
  "{\"a\":1}}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "[1,2", "\"unterminated", "{\"a\" 1}", "01"];
const WRONG_SHAPES = ["[]", "1", "\"x\"", "null", "true", "[{}]"];
const UNSTORABLE = ['"\\u0000"', '"\\ud800"', '"\\udfff"', '"a\\ud83d"', '{"__proto__":1}', '{"k\\u0000":1}'];

/** `/devices/:device/rename` → `<id>/rename` with the world's value for `:device`. */
export function concretePath(route: Route, world: Pick<HostileWorld, "param">): string {
  return routeSegments(route.path).map((s) => s.startsWith(":") ? world.param(s.slice(1)) : s).join("/");
}

export function genericCases(routes: readonly Route[], world: HostileWorld): HostileCase[] {
  const out: HostileCase[] = [];
  for (const route of routes) {
    const path = concretePath(route, world);
    const label = `${route.method} ${route.path}`;
    const headers = world.credentials(route);
    const others = new Set<string>(routes.filter((r) => r.path === route.path).map((r) => r.method));
    for (const method of METHODS.filter((m) => !others.has(m))) {
      out.push({ name: `${label} as ${method}`, route: path, method, headers, body: "{}", expect: [405, "method_not_allowed"] });
    }
    if (route.auth === "user") {
      for (const [name, value, code] of [["none", undefined, "missing_authorization"], ["garbage", "Bearer not.a.jwt", "invalid_authorization"],
        ["Basic", "Basic dXNlcjpwYXNz", "missing_authorization"]] as const) {
        out.push({ name: `${label} user token ${name}`, route: path, method: route.method, body: "{}",
          headers: value === undefined ? {} : { authorization: value }, expect: [401, code] });
      }
    }
    if (route.auth === "device") {
      for (const [name, value, code] of [["none", undefined, "missing_token"], ["short", "devtok_abc", "malformed_token"],
        ["bearer", "Bearer devtok_abc", "malformed_token"]] as const) {
        out.push({ name: `${label} device token ${name}`, route: path, method: route.method, body: "{}",
          headers: value === undefined ? {} : { "x-device-token": value }, expect: [401, code] });
      }
    }
    if (route.body === "none") continue;
    const limit = typeof route.body === "object" && "batchOf" in route.body ? MAX_BATCH_BODY_BYTES : MAX_JSON_BODY_BYTES;
    const post = (name: string, body: HostileCase["body"], expect: [number, string], extra: Record<string, string> = {}) =>
      out.push({ name: `${label} ${name}`, route: path, method: route.method, body, headers: { ...headers, ...extra }, expect });
    for (const body of BROKEN_JSON) post(`broken ${json(body)}`, body, [400, "invalid_json"]);
    post("invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), [400, "invalid_json"]);
    for (const body of WRONG_SHAPES) post(`body ${body}`, body, [400, "invalid_request"]);
    post("text/plain", "{}", [415, "unsupported_media_type"], { "content-type": "text/plain" });
    post("form", "a=1", [415, "unsupported_media_type"], { "content-type": "application/x-www-form-urlencoded" });
    post("oversized", json({ pad: "x".repeat(limit + 1024) }), [413, "payload_too_large"]);
    post("oversized deep", "[".repeat(limit + 1024), [413, "payload_too_large"]);
    for (const raw of UNSTORABLE) post(`hostile text ${raw}`, `{"hostile":${raw}}`, [400, "invalid_request"]);
  }
  return out;
}
