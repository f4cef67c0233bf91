// A small HTTP/1.1 client with one kept-alive socket per host, as the camera has, that
// counts its requests (the drain benchmark and the batch fault test).
import { Agent, request } from "node:http";

export type Res = { status: number; body: any };

/** One HTTP/1.1 client per host with one kept-alive socket, as the firmware has. */
export function keptAliveClient() {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let calls = 0;
  const send = (url: string, method: string, headers: Record<string, string>, body: Uint8Array): Promise<Res> =>
    new Promise((resolve, reject) => {
      calls++;
      const req = request(url, { method, agent, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
        res.on("error", reject);
        res.on("close", () => { if (!res.complete) reject(new Error("the connection closed mid-answer")); });
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  return {
    send,
    json: (url: string, body: unknown, headers: Record<string, string>) =>
      send(url, "POST", { "content-type": "application/json", ...headers }, new TextEncoder().encode(JSON.stringify(body))),
    get calls() { return calls; },
    close: () => agent.destroy(),
  };
}

