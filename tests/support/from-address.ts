// Requests from another client address: every 127.0.0.0/8 address is this machine's
// loopback, so a request bound to 127.0.0.N reaches the gateway from a source of its own
// (the gateway puts that address into CF-Connecting-IP, as the platform's edge does).
import { request } from "node:http";

export interface RawResult {
  status: number;
  body: { error?: { code?: string; message?: string } } & Record<string, unknown>;
  retryAfter: number | null;
}

/** The n-th test source: 127.0.0.2, 127.0.0.3, …, 127.0.1.0, … (never 127.0.0.1, the usual one). */
export function sourceAddress(n: number): string {
  const i = n + 2;
  return `127.0.${Math.floor(i / 254) % 254}.${(i % 254) + 1}`;
}

export function postFrom(
  url: string,
  body: unknown,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<RawResult> {
  const target = new URL(url);
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname, port: target.port, path: target.pathname, method: "POST", localAddress, agent: false,
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers },
    }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (data += c));
      res.on("end", () => {
        let parsed: RawResult["body"] = {};
        try { parsed = JSON.parse(data); } catch { /* not JSON */ }
        const retry = res.headers["retry-after"];
        resolve({ status: res.statusCode ?? 0, body: parsed, retryAfter: retry === undefined ? null : Number(retry) });
      });
    });
    req.on("error", reject);
    req.end(text);
  });
}
