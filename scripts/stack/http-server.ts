// What the stack's small HTTP servers (gateway, SigV4 gate) share: listening on loopback
// with a stop that does not wait for idle keep-alive connections, and streaming a request
// on to an upstream server.
import { type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from "node:http";

export interface LocalServer {
  url: string;
  stop(): Promise<void>;
}

export function listenLocal(server: Server, port: number): Promise<LocalServer> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve({
      url: `http://127.0.0.1:${port}`,
      stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}

/** Streams req to the upstream and its answer back; a client that goes away aborts the upstream request. */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  to: { url: URL; path: string; headers: IncomingHttpHeaders },
  onUpstreamError: () => void,
): void {
  const proxied = httpRequest({ host: to.url.hostname, port: to.url.port, method: req.method, path: to.path, headers: to.headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  proxied.on("error", onUpstreamError);
  req.on("aborted", () => proxied.destroy());
  req.pipe(proxied);
}
