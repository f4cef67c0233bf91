// Runs firmware-config/host/link_proxy_main.cpp: a slow uplink on loopback for the simulated
// camera (see that file for why it is not written with node:net).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../stack/stack.ts";

export const LINK_PROXY = join(PROJECT_ROOT, "firmware-config/build/link-proxy");

export interface LinkProxy {
  port: number;
  url: string;
  stop(): Promise<void>;
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
    createInterface({ input: child.stdout! }).once("line", (line) => {
      const port = Number(/^listening (\d+)$/.exec(line)?.[1]);
      if (!port) return reject(new Error(`link-proxy said: ${line}`));
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}
