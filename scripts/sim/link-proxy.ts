// Runs firmware-config/host/link_proxy_main.cpp: a slow uplink on loopback for the simulated
// camera (see that file for why it is not written with node:net).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../stack/stack.ts";

export const LINK_PROXY = join(PROJECT_ROOT, "firmware-config/build/link-proxy");

/** How one connection through the link ended (a "closed ..." line of the proxy). */
export interface LinkConnection {
  id: number;
  /** how the client ended its side: "fin" (a plain close), "reset", or "open" (upstream ended first) */
  client: "fin" | "reset" | "open";
  /** bytes the client sent that went upstream */
  upBytes: number;
  /** the HTTP status upstream answered (0: none) and the S3 error code in its body ("-": none) */
  answer: number;
  code: string;
}

export interface LinkProxy {
  port: number;
  url: string;
  /** every connection that has ended, in the order they ended */
  connections: LinkConnection[];
  stop(): Promise<void>;
}

/** Parses a "closed id=… client=… up_bytes=… answer=… code=…" line; null for any other. Pure. */
export function parseClosedLine(line: string): LinkConnection | null {
  const m = /^closed id=(\d+) client=(fin|reset|open) up_bytes=(\d+) answer=(\d+) code=(\S+)$/.exec(line);
  return m ? { id: +m[1], client: m[2] as LinkConnection["client"], upBytes: +m[3], answer: +m[4], code: m[5] } : null;
}

/** Built by `make -C firmware-config sim` (buildSimCamera). */
export function startLinkProxy(o: { port: number; upstream: { host: string; port: number }; upBytesPerSecond: number }): Promise<LinkProxy> {
  const child: ChildProcess = spawn(LINK_PROXY, [
    "--port", String(o.port), "--upstream", `${o.upstream.host}:${o.upstream.port}`, "--up-bps", String(o.upBytesPerSecond),
  ], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`link-proxy exited (${code}) before listening`)));
    const connections: LinkConnection[] = [];
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      const port = Number(/^listening (\d+)$/.exec(line)?.[1]);
      if (!port) return reject(new Error(`link-proxy said: ${line}`));
      lines.on("line", (l) => {
        const c = parseClosedLine(l);
        if (c) connections.push(c);
      });
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        connections,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}
