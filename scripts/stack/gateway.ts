// The local API gateway at SUPABASE_URL: `/functions/v1/<name>/…` is forwarded to the
// function as `/<name>/…` (as Supabase's gateway does), and `/auth/v1/.well-known/jwks.json`
// serves the local signing keys.
import { createServer, request as httpRequest, type Server } from "node:http";

export interface GatewayHandle {
  url: string;
  stop(): Promise<void>;
}

export function startGateway(opts: { port: number; functionUrl: string; jwks: unknown }): Promise<GatewayHandle> {
  const upstream = new URL(opts.functionUrl);
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (req.method === "GET" && path === "/auth/v1/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(opts.jwks));
      return;
    }
    const fn = /^\/functions\/v1(\/.*)$/.exec(path);
    if (!fn) {
      res.writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "not_found", message: "No such path on the local gateway." } }));
      return;
    }
    const headers = { ...req.headers, "x-forwarded-for": req.socket.remoteAddress ?? "unknown" };
    const proxied = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: fn[1],
      headers,
    }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    proxied.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "function_unavailable", message: "The function is not answering." } }));
      } else res.destroy();
    });
    req.pipe(proxied);
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve({
      url: `http://127.0.0.1:${opts.port}`,
      stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}
