// A gate in front of the local object store that does what s3rver does not: verify
// SigV4 presigned URLs (signature, scope, expiry) before anything reaches storage.
// Written independently of the signer (node:crypto here, aws4fetch there); both are
// checked against AWS's published presigned-URL example.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import { forward, listenLocal } from "./http-server.ts";

export interface PresignedRequest {
  method: string;
  /** path and query exactly as received, e.g. `/bucket/key?X-Amz-…` */
  url: string;
  host: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Verdict = { ok: true } | { ok: false; code: "AccessDenied" | "SignatureDoesNotMatch"; reason: string };

const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256Hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s, "utf8").digest();

function parseAmzDate(s: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : null;
}

/** Verifies a query-string-signed S3 request against the given secrets. Pure. */
export function verifyPresigned(req: PresignedRequest, secrets: Record<string, string>, now: Date): Verdict {
  const [path, query = ""] = req.url.split("?", 2);
  const params = new URLSearchParams(query);
  const deny = (reason: string): Verdict => ({ ok: false, code: "AccessDenied", reason });
  if (params.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return deny("not a SigV4 presigned request");
  const [accessKey, day, region, service, terminator] = (params.get("X-Amz-Credential") ?? "").split("/");
  const secret = secrets[accessKey];
  if (!secret || service !== "s3" || terminator !== "aws4_request") return deny("unknown credential");
  const amzDate = params.get("X-Amz-Date") ?? "";
  const signedAt = parseAmzDate(amzDate);
  const expires = Number(params.get("X-Amz-Expires"));
  if (signedAt === null || !amzDate.startsWith(day) || !(expires > 0 && expires <= 604800)) return deny("bad date or expiry");
  if (now.getTime() > signedAt + expires * 1000) return deny("request has expired");
  if (now.getTime() < signedAt - 15 * 60 * 1000) return deny("request is signed in the future");

  const signedHeaders = (params.get("X-Amz-SignedHeaders") ?? "").split(";");
  if (!signedHeaders.includes("host")) return deny("host is not signed");
  const headerValue = (name: string) => {
    const v = name === "host" ? req.host : req.headers[name];
    return (Array.isArray(v) ? v.join(",") : v ?? "").trim().replace(/\s+/g, " ");
  };
  const canonicalQuery = [...params.entries()]
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [
    req.method,
    path,
    canonicalQuery,
    signedHeaders.map((h) => `${h}:${headerValue(h)}\n`).join(""),
    signedHeaders.join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), "s3"), "aws4_request");
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  const given = Buffer.from(params.get("X-Amz-Signature") ?? "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: "SignatureDoesNotMatch", reason: "signature does not match" };
  }
  return { ok: true };
}

export interface SigV4GateHandle {
  endpoint: string;
  stop(): Promise<void>;
}

/** Listens on `port`; verified requests are streamed to the store at `upstream`. */
export function startSigV4Gate(opts: { port: number; upstream: string; secrets: Record<string, string> }): Promise<SigV4GateHandle> {
  const upstream = new URL(opts.upstream);
  const server: Server = createServer((req, res) => {
    const verdict = verifyPresigned(
      { method: req.method ?? "GET", url: req.url ?? "/", host: req.headers.host ?? "", headers: req.headers },
      opts.secrets,
      new Date(),
    );
    if (!verdict.ok) {
      req.resume();
      res.writeHead(403, { "content-type": "application/xml", connection: "close" }).end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${verdict.code}</Code><Message>${verdict.reason}</Message></Error>`,
      );
      return;
    }
    forward(req, res, { url: upstream, path: req.url ?? "/", headers: req.headers }, () => res.destroy());
  });
  return listenLocal(server, opts.port).then(({ url, stop }) => ({ endpoint: url, stop }));
}
