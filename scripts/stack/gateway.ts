// The local API gateway at SUPABASE_URL: `/functions/v1/<name>/…` is forwarded to the
// function as `/<name>/…` (as Supabase's gateway does), and `/auth/v1/.well-known/jwks.json`
// serves the local signing keys; `POST /auth/v1/token?grant_type=password` signs in users that
// have a local password and `?grant_type=refresh_token` renews their sessions (Supabase Auth's
// two token grants, nothing else of Auth). With `storage`, paths under its prefix (Supabase's
// `/storage/v1/s3`) go to the S3 endpoint unchanged, so the API and Storage share one host, as on
// a hosted project; each request of a kept-alive connection is routed by its own path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { PasswordSignIn } from "./auth.ts";
import { forward, listenLocal, type LocalServer } from "./http-server.ts";

export type GatewayHandle = LocalServer;

const AUTH_CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, x-supabase-api-version",
  "access-control-allow-methods": "GET, POST, OPTIONS",
};

const MAX_AUTH_BODY_BYTES = 16 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** GoTrue's error shape for the token endpoint. */
const INVALID_CREDENTIALS = { error: "invalid_grant", error_description: "Invalid login credentials" };

async function handleTokenGrant(req: IncomingMessage, res: ServerResponse, signIn: PasswordSignIn, grantType: string): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_AUTH_BODY_BYTES) return sendJson(res, 413, { error: "request_too_large", error_description: "Request body too large" });
    chunks.push(chunk as Buffer);
  }
  let body: { email?: unknown; password?: unknown; refresh_token?: unknown };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return sendJson(res, 400, { error: "invalid_request", error_description: "Could not parse request body as JSON" });
  }
  if (grantType === "refresh_token") {
    if (typeof body?.refresh_token !== "string" || body.refresh_token === "") {
      return sendJson(res, 400, { error: "invalid_request", error_description: "refresh_token required" });
    }
    const renewed = await signIn.refresh(body.refresh_token);
    return sendJson(res, "access_token" in renewed ? 200 : 400, renewed);
  }
  if (typeof body?.email !== "string" || typeof body?.password !== "string") return sendJson(res, 400, INVALID_CREDENTIALS);
  const grant = await signIn.signIn(body.email, body.password);
  return grant ? sendJson(res, 200, grant) : sendJson(res, 400, INVALID_CREDENTIALS);
}

export function startGateway(opts: {
  port: number;
  functionUrl: string;
  jwks: unknown;
  passwordSignIn?: PasswordSignIn;
  /** the SigV4 gate serving S3 under `prefix` (it verifies and strips the prefix itself) */
  storage?: { prefix: string; url: string };
}): Promise<GatewayHandle> {
  const upstream = new URL(opts.functionUrl);
  const storage = opts.storage && { prefix: opts.storage.prefix.replace(/\/+$/, ""), url: new URL(opts.storage.url) };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (storage && path.startsWith(`${storage.prefix}/`)) {
      forward(req, res, { url: storage.url, path, headers: req.headers }, () => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "application/xml" }).end();
        else res.destroy();
      });
      return;
    }
    if (req.method === "GET" && path === "/auth/v1/.well-known/jwks.json") {
      sendJson(res, 200, opts.jwks);
      return;
    }
    // Browsers (the owner's page) call Auth cross-origin, as Supabase Auth allows.
    if (path.startsWith("/auth/v1/")) {
      for (const [k, v] of Object.entries(AUTH_CORS_HEADERS)) res.setHeader(k, v);
      if (req.method === "OPTIONS") {
        res.writeHead(204).end();
        return;
      }
    }
    const token = /^\/auth\/v1\/token\?(.*)$/.exec(path);
    if (token && opts.passwordSignIn) {
      const grantType = new URLSearchParams(token[1]).get("grant_type") ?? "";
      if (req.method !== "POST" || !["password", "refresh_token"].includes(grantType)) {
        sendJson(res, 400, { error: "unsupported_grant_type", error_description: "Only grant_type=password and refresh_token are served locally" });
        return;
      }
      handleTokenGrant(req, res, opts.passwordSignIn, grantType).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: "Sign-in failed" });
      });
      return;
    }
    const fn = /^\/functions\/v1(\/.*)$/.exec(path);
    if (!fn) {
      sendJson(res, 404, { error: { code: "not_found", message: "No such path on the local gateway." } });
      return;
    }
    // As the platform's edge does: the client's address in CF-Connecting-IP, whatever the client sent.
    const client = (req.socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");
    const headers = { ...req.headers, "x-forwarded-for": client, "cf-connecting-ip": client };
    forward(req, res, { url: upstream, path: fn[1], headers }, () => {
      if (!res.headersSent) {
        sendJson(res, 502, { error: { code: "function_unavailable", message: "The function is not answering." } });
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  return listenLocal(server, opts.port);
}
