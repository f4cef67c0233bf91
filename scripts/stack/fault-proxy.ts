// A TCP proxy that misbehaves on purpose, for resilience tests: per connection it
// either passes bytes through, cuts the connection after a random number of request
// or response bytes, or answers 503 without asking upstream. Seeded, so a failing run
// can be replayed.
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface FaultPlan {
  /** probability that a connection is cut while the client is sending */
  cutRequest: number;
  /** probability that a connection is cut while the server is answering */
  cutResponse: number;
  /** probability that a connection gets `503 Service Unavailable` instead of the server */
  unavailable: number;
  /** cuts happen at a byte offset drawn from [0, maxCutOffset) */
  maxCutOffset: number;
}

export interface FaultStats {
  connections: number;
  passed: number;
  cutRequest: number;
  cutResponse: number;
  unavailable: number;
}

export const NO_FAULTS: FaultPlan = { cutRequest: 0, cutResponse: 0, unavailable: 0, maxCutOffset: 1 };

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mode = { kind: "pass" } | { kind: "cutRequest" | "cutResponse"; after: number } | { kind: "unavailable" };

export function chooseMode(plan: FaultPlan, random: () => number): Mode {
  const r = random();
  const after = Math.floor(random() * plan.maxCutOffset);
  if (r < plan.cutRequest) return { kind: "cutRequest", after };
  if (r < plan.cutRequest + plan.cutResponse) return { kind: "cutResponse", after };
  if (r < plan.cutRequest + plan.cutResponse + plan.unavailable) return { kind: "unavailable" };
  return { kind: "pass" };
}

/** Forwards `from` → `to`, destroying both once `limit` bytes have gone through. */
function forward(from: Socket, to: Socket, limit: number, onCut: () => void) {
  let sent = 0;
  from.on("data", (chunk: Buffer) => {
    if (sent + chunk.length >= limit) {
      to.write(chunk.subarray(0, Math.max(0, limit - sent)), () => {
        from.destroy();
        to.destroy();
      });
      sent = limit;
      onCut();
      return;
    }
    sent += chunk.length;
    to.write(chunk);
  });
}

export interface FaultProxyHandle {
  url: string;
  port: number;
  stats: FaultStats;
  setPlan(plan: FaultPlan): void;
  setUpstream(host: string, port: number): void;
  stop(): Promise<void>;
}

export function startFaultProxy(opts: { port: number; plan: FaultPlan; seed: number; upstream?: { host: string; port: number } }): Promise<FaultProxyHandle> {
  const random = seededRandom(opts.seed);
  let plan = opts.plan;
  let upstream = opts.upstream;
  const stats: FaultStats = { connections: 0, passed: 0, cutRequest: 0, cutResponse: 0, unavailable: 0 };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    stats.connections++;
    const mode = chooseMode(plan, random);
    if (mode.kind === "unavailable" || !upstream) {
      stats.unavailable++;
      client.once("data", () => {
        client.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      });
      return;
    }
    const server = createConnection({ host: upstream.host, port: upstream.port });
    sockets.add(server);
    server.on("close", () => { sockets.delete(server); client.destroy(); });
    server.on("error", () => client.destroy());
    client.on("close", () => server.destroy());
    const counted = (kind: "cutRequest" | "cutResponse") => () => { stats[kind]++; };
    if (mode.kind === "pass") stats.passed++;
    forward(client, server, mode.kind === "cutRequest" ? mode.after : Infinity, counted("cutRequest"));
    forward(server, client, mode.kind === "cutResponse" ? mode.after : Infinity, counted("cutResponse"));
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve({
      url: `http://127.0.0.1:${opts.port}`,
      port: opts.port,
      stats,
      setPlan: (p) => { plan = p; },
      setUpstream: (host, port) => { upstream = { host, port }; },
      stop: () => new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
    }));
  });
}
