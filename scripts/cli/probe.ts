// The doctor's one request: POST <api>/devices/activate with `{}`. The body fails validation
// (400 invalid_request) before any pairing code is looked at, so it changes nothing and does not
// count against the activation guessing limit. TLS is checked with the config's root CA, as the
// camera would check it.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

import { certificateFailureReason, networkFailureReason, parseBody } from "./api.ts";

export type ProbeResult =
  | { kind: "answered"; status: number; body: unknown; retryAfter?: string }
  | { kind: "tls"; reason: string }
  | { kind: "unreachable"; reason: string };

const TIMEOUT_MS = 10_000;

export function probeActivate(apiBase: string, tls: { ca?: string; insecure: boolean }): Promise<ProbeResult> {
  const url = new URL(`${apiBase.replace(/\/+$/, "")}/devices/activate`);
  const body = "{}";
  const https = url.protocol === "https:";
  const options = {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    timeout: TIMEOUT_MS,
    ...(https ? { ca: tls.ca, rejectUnauthorized: !tls.insecure } : {}),
  };
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const parsed = parseBody(Buffer.concat(chunks).toString("utf8"));
        const retryAfter = res.headers["retry-after"];
        resolve({ kind: "answered", status: res.statusCode ?? 0, body: parsed, retryAfter: typeof retryAfter === "string" ? retryAfter : undefined });
      });
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const code = err.code ?? "";
      if (/CERT|SELF_SIGNED|UNABLE_TO|SSL|TLS|ERR_TLS/.test(code)) resolve({ kind: "tls", reason: certificateFailureReason(code, err.message, "its certificate", "the root CA in your config") });
      else resolve({ kind: "unreachable", reason: networkFailureReason(err) });
    });
    req.end(body);
  });
}
