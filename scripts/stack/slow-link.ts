// A TCP proxy that behaves like a slow mobile link: each direction is one shared pipe of
// `bitsPerSecond` (all connections queue on it, as on one radio link) and every byte
// arrives `rttMs / 2` after it has left. Counts the TCP connections it is asked for and,
// from the bytes the client sends, each HTTP request (its method and path), whatever the
// client says it sent.
// For the drain benchmark (scripts/bench/drain.ts); loopback only. Unlike the simulator's
// uplink (scripts/sim/link-proxy.ts: bandwidth up only, per proxy, small receive buffer),
// this one adds latency both ways and puts the API and storage hosts on one shared link;
// it reads at loopback speed, so a sender sees its bytes acknowledged early, which does
// not change when a request's answer arrives (the figures the benchmark reports).
import { createConnection, createServer, type Socket } from "node:net";

export interface LinkPlan {
  rttMs: number;
  /** per direction; Infinity for no limit */
  bitsPerSecond: number;
}

/** One request as the client's bytes framed it: method and path (the query left off). */
export interface SeenRequest {
  method: string;
  path: string;
  connection: number;
}

export interface SlowLinkStats {
  connections: number;
  bytesUp: number;
  bytesDown: number;
  requests: SeenRequest[];
  /** requests whose body the reader could not frame (no Content-Length): counting stopped on their connection */
  unframed: number;
}

export interface SlowLinkProxy {
  url: string;
  port: number;
  stats: SlowLinkStats;
  stop(): Promise<void>;
}

const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Frames the requests of one client-to-server HTTP/1.1 stream (head, then Content-Length
 * bytes of body), as chunks arrive split anywhere. A request it cannot frame (chunked or
 * an over-long head) is reported with `framed: false` and ends the reading. Pure but for its state.
 */
export function requestReader(onRequest: (r: { method: string; path: string; framed: boolean }) => void): (chunk: Buffer) => void {
  let head = Buffer.alloc(0);
  let body = 0; // body bytes of the current request still to skip
  let stopped = false;
  return (chunk: Buffer) => {
    let rest = chunk;
    while (!stopped && rest.length > 0) {
      if (body > 0) {
        const skip = Math.min(body, rest.length);
        body -= skip;
        rest = rest.subarray(skip);
        continue;
      }
      head = Buffer.concat([head, rest]);
      rest = Buffer.alloc(0);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) { stopped = true; onRequest({ method: "?", path: "?", framed: false }); }
        return;
      }
      const lines = head.subarray(0, end).toString("latin1").split("\r\n");
      const [method = "?", target = "?"] = lines[0].split(" ");
      const header = (name: string) =>
        lines.slice(1).find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
      const length = header("content-length");
      const framed = header("transfer-encoding") === undefined && (length === undefined || /^\d+$/.test(length));
      onRequest({ method, path: target.split("?", 1)[0], framed });
      if (!framed) { stopped = true; return; }
      body = Number(length ?? 0);
      rest = head.subarray(end + 4);
      head = Buffer.alloc(0);
    }
  };
}

/** One direction of the link: when a chunk has been serialised, and when it arrives. */
function pipe(plan: LinkPlan): (bytes: number) => number {
  let free = 0; // when the pipe has sent everything queued so far (ms, performance.now)
  return (bytes: number): number => {
    const start = Math.max(performance.now(), free);
    free = start + (Number.isFinite(plan.bitsPerSecond) ? (bytes * 8 * 1000) / plan.bitsPerSecond : 0);
    return free + plan.rttMs / 2;
  };
}

export interface Link {
  up: (bytes: number) => number;
  down: (bytes: number) => number;
}

/** One link; proxies to several hosts over it share its bandwidth, as on one radio. */
export function createLink(plan: LinkPlan): Link {
  return { up: pipe(plan), down: pipe(plan) };
}

/** `upstream` and `link` are read per connection, so the proxy can start before what it proxies. */
export function startSlowLinkProxy(opts: { upstream: () => string; link: () => Link }): Promise<SlowLinkProxy> {
  const stats: SlowLinkStats = { connections: 0, bytesUp: 0, bytesDown: 0, requests: [], unframed: 0 };
  const sockets = new Set<Socket>();
  // Delivers in order: a chunk waits for the one before it even if its own time is earlier.
  const forward = (from: Socket, to: Socket, link: (n: number) => number, count: (n: number) => void) => {
    let last = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      count(chunk.length);
      const at = link(chunk.length);
      last = last.then(() => new Promise<void>((r) => setTimeout(r, Math.max(0, at - performance.now()))))
        .then(() => { if (!to.destroyed) to.write(chunk); });
    });
    from.on("end", () => { last = last.then(() => { to.end(); }); });
    from.on("error", () => to.destroy());
    from.on("close", () => { last = last.then(() => { to.destroy(); }); });
  };
  const server = createServer((client) => {
    const connection = ++stats.connections;
    const read = requestReader(({ method, path, framed }) => {
      stats.requests.push({ method, path, connection });
      if (!framed) stats.unframed++;
    });
    client.on("data", read);
    const upstream = new URL(opts.upstream());
    const { up, down } = opts.link(); // read per connection: a run may switch links
    const server = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    for (const s of [client, server]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    forward(client, server, up, (n) => { stats.bytesUp += n; });
    forward(server, client, down, (n) => { stats.bytesDown += n; });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}`, port, stats,
        stop: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}
