// The board's abort() is a plain close: arduino-esp32 3.x builds lwIP without SO_LINGER, so a PUT
// the camera gives up mid-way (its step budget spent on a slow link) ends with a FIN after part of
// the body, not a reset. Storage must refuse that short body as S3 does (400 IncompleteBody) and
// store nothing; the photo is sent again whole and ingested once.
//   camera -> link proxy (throttle; passes FIN as FIN, reset as reset) -> SigV4 gate -> s3rver
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pairDevice } from "../../scripts/cli/api.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { type LinkConnection, type LinkProxy, startLinkProxy } from "../../scripts/sim/link-proxy.ts";
import { startSimCamera, syntheticFrame } from "../../scripts/sim/sim-camera.ts";
import { faultStack } from "../support/fault-stack.ts";
import { storedObject } from "../support/stored-object.ts";
import { tempDir } from "../support/temp.ts";

let link: LinkProxy | undefined;
let linkPort: number;
const ended: LinkConnection[] = [];

const env = faultStack({
  name: "abort-fin", seeds: { api: 3, storage: 4 }, camera: true,
  storageFront: async () => {
    linkPort = await freePort();
    return `http://127.0.0.1:${linkPort}`;
  },
});
afterAll(() => link?.stop());

// Straight to the gate: a proxy between would end its own upstream connection its own way.
async function setLinkRate(bytesPerSecond: number): Promise<void> {
  if (link) {
    await link.stop();
    ended.push(...link.connections);
  }
  const gate = new URL(env.stack.info.storage.endpoint);
  link = await startLinkProxy({ port: linkPort, upstream: { host: gate.hostname, port: Number(gate.port) }, upBytesPerSecond: bytesPerSecond });
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 100))) {
    if (cond()) return true;
  }
  return cond();
}

const sha = (frame: number, size: number) => createHash("sha256").update(syntheticFrame(1, frame, size)).digest("hex");

describe("simulated camera giving up a PUT on a slow link", () => {
  it("ends it with a FIN, storage refuses the short body (400 IncompleteBody), and the photo is later ingested whole, once", async () => {
    const size = 120_000;
    // 16 KB/s: a PUT needs about 7.5 s, the step budget is 3 s, so every PUT is cut short.
    await setLinkRate(16_000);
    const dir = await tempDir("lifelog-camera-");
    const { device_id: deviceId, pairing_code: pairingCode } = await pairDevice(env.stack.info.api_base, env.stack.info.user_access_token);
    const run = startSimCamera({
      apiBase: env.apiBase, card: join(dir, "card"), nvs: join(dir, "nvs.json"), pairingCode,
      intervalMs: 200, photos: 2, exitWhenDrained: true, photoSize: size,
      extraArgs: ["--step-budget-ms", "3000", "--backoff-base-ms", "200", "--backoff-cap-ms", "1000", "--max-runtime-ms", "150000"],
    });
    const cutShort = (c: LinkConnection) => c.client === "fin" && c.upBytes > 0 && c.upBytes < size;
    // Wait until a cut-short PUT has been answered, whatever the machine's speed; then open the link.
    const sawCut = await until(() => link!.connections.some(cutShort), 60_000);
    await setLinkRate(0);
    const code = await run.exit;
    await link!.stop();
    ended.push(...link!.connections);
    link = undefined;

    const items = await env.sql<{ device_seq: string; storage_key: string; metadata: { frame: number; sha256: string } }[]>`
      select device_seq, storage_key, metadata from public.source_items where device_id = ${deviceId} order by device_seq`;
    const cuts = ended.filter(cutShort);
    console.log(`abort with FIN: ${JSON.stringify({ exit: code, cuts, resets: ended.filter((c) => c.client === "reset").length, items: items.length })}`);
    expect(sawCut).toBe(true);
    expect(code).toBe(0);
    expect(cuts.length).toBeGreaterThan(0);
    for (const c of cuts) expect(c).toMatchObject({ answer: 400, code: "IncompleteBody" });
    expect(ended.filter((c) => c.client === "reset")).toEqual([]);
    expect(items.map((i) => i.metadata.frame)).toEqual([0, 1]);
    for (const item of items) {
      expect(item.metadata.sha256).toBe(sha(item.metadata.frame, size));
      const bytes = await storedObject(env.stack.info.storage, item.storage_key);
      expect(bytes && createHash("sha256").update(bytes).digest("hex")).toBe(sha(item.metadata.frame, size));
    }
  }, 300_000);
});
