// A gate in front of the local object store that does what s3rver does not: verify
// SigV4 presigned URLs (signature, scope, expiry, every x-amz-* header signed) before
// anything reaches storage, and, on PUT, what S3 itself checks: the body against a
// sent x-amz-checksum-sha256, its length against Content-Length, and If-None-Match: *
// against an existing key. The canonical request is ../storage/sigv4.ts (node:crypto), which
// the photo worker signs with; the Edge Function signs with aws4fetch, so the gate checks that
// signer independently. Both are checked against AWS's published presigned-URL example.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { canonicalQuery, presignedSignature, signingKey } from "../storage/sigv4.ts";
import { forward, listenLocal } from "./http-server.ts";

export interface PresignedRequest {
  method: string;
  /** path and query exactly as received, e.g. `/bucket/key?X-Amz-…` */
  url: string;
  host: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Verdict = { ok: true } | { ok: false; code: "AccessDenied" | "SignatureDoesNotMatch"; reason: string };

/** An S3 error answer: status, S3's error code, message. */
export interface S3Refusal {
  status: number;
  code: string;
  message: string;
}

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
  // S3 refuses x-amz-* request headers that the signature does not cover
  // (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
  const unsigned = Object.keys(req.headers).filter((h) => h.toLowerCase().startsWith("x-amz-") && !signedHeaders.includes(h.toLowerCase()));
  if (unsigned.length) return deny(`There were headers present in the request which were not signed: ${unsigned.join(", ")}`);
  const headerValue = (name: string) => {
    const v = name === "host" ? req.host : req.headers[name];
    return Array.isArray(v) ? v.join(",") : v ?? "";
  };
  const expected = Buffer.from(presignedSignature({
    method: req.method,
    path,
    query: canonicalQuery(params.entries()),
    headers: signedHeaders.map((h) => [h, headerValue(h)]),
    amzDate,
    region,
  }, signingKey(secret, day, region)), "hex");
  const given = Buffer.from(params.get("X-Amz-Signature") ?? "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: "SignatureDoesNotMatch", reason: "signature does not match" };
  }
  return { ok: true };
}

// The largest body the gate holds in memory to check it (S3's own PUT limit is 5 GB:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html).
export const GATE_MAX_PUT_BYTES = 64 * 1024 * 1024;

/**
 * What S3 answers a PUT whose body differs from its x-amz-checksum-sha256 (base64 of
 * the SHA-256): 400 BadDigest; a value that is not a SHA-256 is 400 InvalidRequest
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). Pure.
 */
export function checkSha256(body: Buffer, declared: string | undefined): S3Refusal | null {
  if (declared === undefined) return null;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(declared)) {
    return { status: 400, code: "InvalidRequest", message: "Value for x-amz-checksum-sha256 header is invalid." };
  }
  const actual = createHash("sha256").update(body).digest("base64");
  if (actual !== declared) {
    return { status: 400, code: "BadDigest", message: "The SHA256 you specified did not match the calculated checksum." };
  }
  return null;
}

export interface SigV4GateHandle {
  endpoint: string;
  stop(): Promise<void>;
}

const errorXml = (e: S3Refusal) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${e.message}</Message></Error>`;

function sendError(res: ServerResponse, e: S3Refusal): void {
  res.writeHead(e.status, { "content-type": "application/xml", connection: "close" }).end(errorXml(e));
}

/**
 * What S3 answers a request whose connection ended (a clean FIN) before the body its
 * Content-Length declared: 400 IncompleteBody (ErrorResponses.html); nothing is stored.
 */
export const INCOMPLETE_BODY: S3Refusal = {
  status: 400,
  code: "IncompleteBody",
  message: "You did not provide the number of bytes specified by the Content-Length HTTP header.",
};

/**
 * Node's parser reports a request that ended short of its Content-Length as a client error
 * (HPE_INVALID_EOF_STATE) before the handler's body read sees it abort; the peer may still
 * read, so it gets S3's answer. Any other parse error keeps Node's plain 400.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "HPE_INVALID_EOF_STATE" && socket.writable) {
    const xml = errorXml(INCOMPLETE_BODY);
    socket.end(
      `HTTP/1.1 ${INCOMPLETE_BODY.status} Bad Request\r\ncontent-type: application/xml\r\nconnection: close\r\n` +
        `content-length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`,
    );
    return;
  }
  if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
  else socket.destroy();
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too_large" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        req.destroy();
        resolve("too_large");
      } else {
        chunks.push(c);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("aborted", () => resolve("aborted"));
    req.on("error", () => resolve("aborted"));
  });
}

function upstreamHead(upstream: URL, path: string): Promise<{ status: number; length: number }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: upstream.hostname, port: upstream.port, method: "HEAD", path }, (r) => {
      r.resume();
      resolve({ status: r.statusCode ?? 502, length: Number(r.headers["content-length"] ?? -1) });
    }).on("error", reject).end();
  });
}

/**
 * Where a request goes behind the gate: with a `pathPrefix` the store is served under it, as
 * Supabase Storage serves S3 under `/storage/v1/s3` (its `S3_PROTOCOL_PREFIX`, supabase/storage
 * src/http/plugins/signature-v4.ts; docs: guides/self-hosting/self-hosted-s3). The prefix is part
 * of the path the client signs; the store behind sees the path without it. Null: not under it. Pure.
 */
export function pathBehindPrefix(url: string, pathPrefix: string): string | null {
  if (!pathPrefix) return url;
  if (!url.startsWith(`${pathPrefix}/`)) return null;
  return url.slice(pathPrefix.length);
}

/**
 * Listens on `port`; verified requests go on to the store at `upstream`. With `pathPrefix`
 * (e.g. `/storage/v1/s3`, no trailing slash) only paths under it are served, verified with
 * it and forwarded without it.
 */
export function startSigV4Gate(
  opts: { port: number; upstream: string; secrets: Record<string, string>; pathPrefix?: string },
): Promise<SigV4GateHandle> {
  const upstream = new URL(opts.upstream);
  const pathPrefix = (opts.pathPrefix ?? "").replace(/\/+$/, "");
  // Keys with a conditional PUT in flight: a second one is S3's 409 ConditionalRequestConflict.
  const conditionalPuts = new Set<string>();

  async function put(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const key = path.split("?", 1)[0];
    const ifNoneMatch = req.headers["if-none-match"];
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch !== "*") {
        req.resume();
        return sendError(res, { status: 501, code: "NotImplemented", message: "If-None-Match supports only *." });
      }
      if (conditionalPuts.has(key)) {
        req.resume();
        return sendError(res, { status: 409, code: "ConditionalRequestConflict", message: "A conflicting conditional operation is in progress." });
      }
      conditionalPuts.add(key);
    }
    try {
      // Like S3, nothing is stored unless the whole body arrived and checks out.
      const body = await readBody(req, GATE_MAX_PUT_BYTES);
      if (body === "aborted") return void res.destroy();
      if (body === "too_large") {
        return sendError(res, { status: 400, code: "EntityTooLarge", message: "The local gate holds at most 64 MiB." });
      }
      const digest = req.headers["x-amz-checksum-sha256"];
      const bad = checkSha256(body, Array.isArray(digest) ? digest.join(",") : digest);
      if (bad) return sendError(res, bad);
      if (ifNoneMatch !== undefined && (await upstreamHead(upstream, key)).status === 200) {
        return sendError(res, { status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" });
      }
      const headers = { ...req.headers, "content-length": String(body.length) };
      delete headers["if-none-match"]; // s3rver does not know conditional writes; checked above
      delete headers["transfer-encoding"];
      await new Promise<void>((resolve) => {
        const proxied = httpRequest({ host: upstream.hostname, port: upstream.port, method: "PUT", path, headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on("end", resolve);
        });
        proxied.on("error", () => { res.destroy(); resolve(); });
        proxied.end(body);
      });
    } finally {
      if (ifNoneMatch !== undefined) conditionalPuts.delete(key);
    }
  }

  const server: Server = createServer((req, res) => {
    const path = pathBehindPrefix(req.url ?? "/", pathPrefix);
    if (path === null) {
      req.resume();
      return sendError(res, { status: 404, code: "NoSuchKey", message: `Not under the S3 endpoint's path ${pathPrefix}.` });
    }
    const verdict = verifyPresigned(
      { method: req.method ?? "GET", url: req.url ?? "/", host: req.headers.host ?? "", headers: req.headers },
      opts.secrets,
      new Date(),
    );
    if (!verdict.ok) {
      req.resume();
      return sendError(res, { status: 403, code: verdict.code, message: verdict.reason });
    }
    if (req.method === "PUT") {
      put(req, res, path).catch(() => res.destroy());
      return;
    }
    if (req.method === "GET" && req.headers.range) {
      // s3rver answers a range of an empty object with a 206 that promises a byte and
      // sends none; S3 answers 416 InvalidRange (any range of an empty object is unsatisfiable).
      upstreamHead(upstream, path.split("?", 1)[0]).then((head) => {
        if (head.status === 200 && head.length === 0) {
          req.resume();
          return sendError(res, { status: 416, code: "InvalidRange", message: "The requested range is not satisfiable" });
        }
        forward(req, res, { url: upstream, path, headers: req.headers }, () => res.destroy());
      }, () => res.destroy());
      return;
    }
    forward(req, res, { url: upstream, path, headers: req.headers }, () => res.destroy());
  });
  server.on("clientError", answerClientError);
  return listenLocal(server, opts.port).then(({ url, stop }) => ({ endpoint: url, stop }));
}
