// A closed-loop HTTP load generator: `connections` keep-alive sockets, each sending its
// next request as soon as the previous answer is read, for a fixed number of requests.
// Plain node:http (no fetch): at 10k req/s fetch's own overhead would be what we measure.
import { Agent, request as httpRequest } from "node:http";

export interface BenchRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** status code → count */
  statuses: Record<number, number>;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  requests: number;
  /** The i-th request (0-based, across all connections). */
  makeRequest: (i: number) => BenchRequest;
}

function send(agent: Agent, base: URL, r: BenchRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const req = httpRequest({
      agent,
      host: base.hostname,
      port: base.port,
      method: r.method,
      path: r.path,
      headers: { ...r.headers, ...(body ? { "content-length": String(body.length) } : {}) },
    }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = new URL(opts.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const latencies: number[] = new Array(opts.requests);
  const statuses: Record<number, number> = {};
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < opts.requests) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      const status = await send(agent, base, opts.makeRequest(i));
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.connections }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = latencies.slice().sort((a, b) => a - b);
  return {
    requests: opts.requests,
    seconds,
    rps: opts.requests / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    statuses,
  };
}
