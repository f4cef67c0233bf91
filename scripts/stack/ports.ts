import { readFileSync } from "node:fs";
import { createServer } from "node:net";

// Ports handed out by bind(0) come from the kernel's ephemeral range, which outgoing
// connections share: one of them can take such a port before our server binds it.
// Ports below that range are used only by listeners, so free ports are picked there.
const PICK_FLOOR = 10_000;
// Browsers refuse some ports outright (the Fetch standard's "bad ports"; Chromium answers
// ERR_UNSAFE_PORT). Above the floor that list has one entry; the owner page and the API are
// opened from browsers, so it is never handed out.
const BROWSER_BAD_PORTS = new Set([10_080]);

function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768; // Linux's default; other systems start higher
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

const taken = new Set<number>(); // never hand out a port twice from this process

type Pick = (floor: number, ceiling: number) => number;
const uniform: Pick = (floor, ceiling) => floor + Math.floor(Math.random() * (ceiling - floor));

/** A TCP port that is free on loopback now, outside the ephemeral range, not handed out before. */
export async function freePort(pick: Pick = uniform): Promise<number> {
  const ceiling = ephemeralRangeStart();
  if (ceiling - PICK_FLOOR < 1_000) throw new Error(`no room for ports below the ephemeral range (${ceiling})`);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = pick(PICK_FLOOR, ceiling);
    if (taken.has(port) || BROWSER_BAD_PORTS.has(port) || !(await canListen(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error("found no free TCP port on 127.0.0.1");
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}
