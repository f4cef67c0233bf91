// A browser calling the function through supabase-js: the preflight must allow every
// header supabase-js may send (supabase-js src/cors.ts, its trace headers in
// src/lib/fetch.ts, functions-js' x-region), and Retry-After must be readable.
import { describe, expect, it } from "vitest";
import { stack } from "../support/stack.ts";

const SUPABASE_JS_HEADERS = [
  "authorization", "x-client-info", "apikey", "content-type", "traceparent", "tracestate", "baggage", "x-region",
];

describe("CORS", () => {
  it("answers a preflight that asks for every supabase-js header", async () => {
    const res = await fetch(`${stack.api_base}/devices/pair`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.lifelog.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": SUPABASE_JS_HEADERS.join(","),
      },
    });
    await res.body?.cancel();
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(/\s*,\s*/);
    for (const h of [...SUPABASE_JS_HEADERS, "x-device-token"]) expect(allowed).toContain(h);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("lets browsers read Retry-After on every answer, refusals included", async () => {
    const res = await fetch(`${stack.api_base}/devices/pair`, { method: "POST", headers: { origin: "https://app.lifelog.example" } });
    await res.body?.cancel();
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("retry-after");
  });
});
