// A TCP proxy that misbehaves on purpose, for resilience tests: per request it either
// passes bytes through, cuts the connection after a random number of request or
// response bytes, or answers 503 without asking upstream. Seeded, so that a failing
// run can be replayed (timing aside).
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface FaultPlan {
  /** probability that a connection is cut while the client is sending */
  cutRequest: number;
  /** probability that a connection is cut while the server is answering */
  cutResponse: number;
  /** probability that a connection gets `503 Service Unavailable` instead of the server */
  unavailable: number;
  /** a request is cut at a byte offset drawn from [0, maxRequestCut) */
  maxRequestCut: number;
  /** a response is cut at a byte offset drawn from [0, maxResponseCut) */
  maxResponseCut: number;
  /** if set, requests flow upstream no faster than this (a slow uplink) */
  uplinkBytesPerSecond?: number;
}

/** An answer the proxy gives itself, instead of asking upstream, to the next matching request(s). */
export interface CannedAnswer {
  status: number;
  /** extra headers, computed when the answer is sent (so a `Date` or an HTTP-date `Retry-After` is fresh) */
  headers?: (now: Date) => Record<string, string>;
  body?: string;
  /** only requests whose request line ("PUT /path HTTP/1.1") matches */
  match?: RegExp;
  /** how many requests it answers (default 1) */
  times?: number;
}

/** One request as the proxy saw it: when its first byte arrived and, if canned, what it got and when. */
export interface SeenRequest {
  at: number;
  line: string;
  canned?: { status: number; headers: Record<string, string>; at: number };
}

export interface FaultStats {
  connections: number;
  /** requests let through untouched (the other counters are requests too) */
  passed: number;
  cutRequest: number;
  cutResponse: number;
  unavailable: number;
  /** every request, in arrival order */
  requests: SeenRequest[];
}

const UNAVAILABLE = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

export const NO_FAULTS: FaultPlan = { cutRequest: 0, cutResponse: 0, unavailable: 0, maxRequestCut: 1, maxResponseCut: 1 };

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

type Mode = { kind: "pass" } | { kind: "cutRequest" | "cutResponse"; after: number } | { kind: "unavailable" } | { kind: "swallow" };

export function chooseMode(plan: FaultPlan, random: () => number): Mode {
  const r = random();
  const at = random();
  if (r < plan.cutRequest) return { kind: "cutRequest", after: Math.floor(at * plan.maxRequestCut) };
  if (r < plan.cutRequest + plan.cutResponse) return { kind: "cutResponse", after: Math.floor(at * plan.maxResponseCut) };
  if (r < plan.cutRequest + plan.cutResponse + plan.unavailable) return { kind: "unavailable" };
  return { kind: "pass" };
}

export interface FaultProxyHandle {
  url: string;
  port: number;
  stats: FaultStats;
  setPlan(plan: FaultPlan): void;
  setUpstream(host: string, port: number): void;
  /** queue a canned answer; canned answers take precedence over the fault plan */
  answer(a: CannedAnswer): void;
  clearAnswers(): void;
  stop(): Promise<void>;
}

function cannedResponse(a: CannedAnswer, headers: Record<string, string>): string {
  const body = a.body ?? JSON.stringify({ error: { code: a.status === 429 ? "rate_limited" : "unavailable", message: "canned by the fault proxy" } });
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${a.status} Canned\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${lines}Connection: close\r\n\r\n${body}`;
}

export function startFaultProxy(opts: { port: number; plan: FaultPlan; seed: number; upstream?: { host: string; port: number } }): Promise<FaultProxyHandle> {
  const random = seededRandom(opts.seed);
  let plan = opts.plan;
  let upstream = opts.upstream;
  const stats = { connections: 0, passed: 0, cutRequest: 0, cutResponse: 0, unavailable: 0 } as FaultStats;
  // Not enumerable: reports that print the counters stay short.
  Object.defineProperty(stats, "requests", { value: [], enumerable: false });
  let answers: CannedAnswer[] = [];
  const takeAnswer = (line: string): CannedAnswer | undefined => {
    const i = answers.findIndex((a) => !a.match || a.match.test(line));
    if (i < 0) return undefined;
    const a = answers[i];
    const left = (a.times ?? 1) - 1;
    if (left <= 0) answers.splice(i, 1);
    else answers[i] = { ...a, times: left };
    return a;
  };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    stats.connections++;
    if (!upstream) {
      stats.unavailable++;
      client.once("data", () => client.end(UNAVAILABLE));
      return;
    }
    const server = createConnection({ host: upstream.host, port: upstream.port });
    sockets.add(server);
    server.on("close", () => { sockets.delete(server); client.destroy(); });
    server.on("error", () => client.destroy());
    client.on("close", () => server.destroy());

    // A new mode is drawn for each request: the first bytes the client sends after the
    // server has answered (or on a new connection) start one.
    let mode: Mode = { kind: "pass" };
    let requestStarts = true;
    let sentUp = 0;
    let sentDown = 0;
    const cut = (from: Socket, to: Socket, chunk: Buffer, room: number, kind: "cutRequest" | "cutResponse") => {
      stats[kind]++;
      mode = { kind: "pass" };
      to.write(chunk.subarray(0, Math.max(0, room)), () => { from.destroy(); to.destroy(); });
    };
    // A request line can arrive split (behind a slow link, a byte at a time): its first bytes are
    // held until the line is complete, so it is logged and matched whole.
    let head = Buffer.alloc(0);
    let headSince = 0;
    client.on("data", (piece: Buffer) => {
      let chunk = piece;
      if (requestStarts) {
        if (head.length === 0) headSince = Date.now();
        head = Buffer.concat([head, piece]);
        if (!head.includes("\r\n") && head.length < 2048) return;
        chunk = head;
        head = Buffer.alloc(0);
        requestStarts = false;
        const text = chunk.subarray(0, 2048).toString("latin1");
        const seen: SeenRequest = { at: headSince, line: text.slice(0, Math.max(0, text.indexOf("\r\n"))) };
        stats.requests.push(seen);
        const canned = takeAnswer(seen.line);
        if (canned) {
          const now = new Date();
          const headers = canned.headers?.(now) ?? {};
          seen.canned = { status: canned.status, headers, at: now.getTime() };
          // Answered at once; the rest of the request is read and dropped (the answer says
          // Connection: close, so the client hangs up when it has read it).
          mode = { kind: "swallow" };
          client.write(cannedResponse(canned, headers));
          return;
        }
        mode = chooseMode(plan, random);
        sentUp = 0;
        sentDown = 0;
        if (mode.kind === "pass") stats.passed++;
        if (mode.kind === "unavailable") {
          stats.unavailable++;
          server.destroy();
          client.end(UNAVAILABLE);
          return;
        }
      }
      if (mode.kind === "swallow") return;
      if (mode.kind === "cutRequest" && sentUp + chunk.length >= mode.after) {
        return cut(client, server, chunk, mode.after - sentUp, "cutRequest");
      }
      sentUp += chunk.length;
      server.write(chunk);
      const bps = plan.uplinkBytesPerSecond;
      if (bps) {
        client.pause();
        setTimeout(() => client.resume(), (chunk.length * 1000) / bps);
      }
    });
    server.on("data", (chunk: Buffer) => {
      requestStarts = true;
      if (mode.kind === "cutResponse" && sentDown + chunk.length >= mode.after) {
        return cut(server, client, chunk, mode.after - sentDown, "cutResponse");
      }
      sentDown += chunk.length;
      client.write(chunk);
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve({
      url: `http://127.0.0.1:${opts.port}`,
      port: opts.port,
      stats,
      setPlan: (p) => { plan = p; },
      setUpstream: (host, port) => { upstream = { host, port }; },
      answer: (a) => { answers.push(a); },
      clearAnswers: () => { answers = []; },
      stop: () => new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
    }));
  });
}
