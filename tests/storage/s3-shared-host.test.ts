// The API and Storage's S3 endpoint on one host, as on a hosted project (`<project>/functions/v1`
// and `<project>/storage/v1/s3`): the gateway routes each request of a kept-alive connection by
// its path, and the SigV4 gate serves S3 only under the prefix, which is part of the signed path.
// The upload URL comes from the function's own signer (functions/_shared/storage/s3.ts) with an
// endpoint that has a path.
import { createHash } from "node:crypto";
import { Agent, createServer, request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Driver } from "../../functions/_shared/storage/s3.ts";
import { startGateway } from "../../scripts/stack/gateway.ts";
import { createLink, type SlowLinkProxy, requestReader, startSlowLinkProxy } from "../../scripts/stack/slow-link.ts";
import { LOCAL_S3_CREDENTIALS, type ObjectStoreHandle, startObjectStore } from "../../scripts/stack/object-store.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { pathBehindPrefix } from "../../scripts/stack/sigv4-gate.ts";
import { STORAGE_S3_PREFIX } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";

const BUCKET = "device-photos";
let store: ObjectStoreHandle;
let gatewayUrl: string;
let link: SlowLinkProxy;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  store = await startObjectStore({
    directory: join(await tempDir("lifelog-shared-host-"), "objects"), port: await freePort(),
    backendPort: await freePort(), bucket: BUCKET, pathPrefix: STORAGE_S3_PREFIX,
  });
  stops.push(store.stop);
  // The function behind /functions/v1: answers with the path it was given.
  const fn = createServer((req, res) => { req.resume(); req.on("end", () => res.end(JSON.stringify({ path: req.url }))); });
  const fnPort = await freePort();
  await new Promise<void>((r) => fn.listen(fnPort, "127.0.0.1", r));
  stops.push(() => new Promise((r) => { fn.closeAllConnections(); fn.close(() => r()); }));
  const gatewayPort = await freePort();
  const gateway = await startGateway({
    port: gatewayPort, functionUrl: `http://127.0.0.1:${fnPort}`, jwks: { keys: [] },
    storage: { prefix: STORAGE_S3_PREFIX, url: store.endpoint },
  });
  stops.push(gateway.stop);
  // The client reaches the gateway through a link proxy, which counts connections and requests.
  link = await startSlowLinkProxy({ upstream: () => gateway.url, link: () => createLink({ rttMs: 0, bitsPerSecond: Infinity }) });
  stops.push(link.stop);
  gatewayUrl = link.url;
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

function driver(publicEndpoint: string) {
  return createS3Driver({
    endpoint: store.endpoint, publicEndpoint, region: "us-east-1", bucket: BUCKET,
    accessKeyId: LOCAL_S3_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey, uploadTtlSeconds: 300,
  });
}

const photo = (n: number) => Buffer.alloc(n, 0x5a);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** One kept-alive socket, as the camera has after the firmware change. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function send(url: string, method: string, headers: Record<string, string>, body: Buffer) {
  return new Promise<{ status: number; text: string; reused: boolean }>((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), reused: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const stored = (key: string) => fetch(`${store.backendEndpoint}/${BUCKET}/${key}`).then(async (r) => ({ status: r.status, bytes: Buffer.from(await r.arrayBuffer()) }));

describe("one host for the API and S3 (gateway + /storage/v1/s3)", () => {
  it("serves an API call and a PUT signed for the prefixed endpoint on one kept-alive connection", async () => {
    const s3 = driver(gatewayUrl + STORAGE_S3_PREFIX);
    const body = photo(4000);
    const key = "devices/a/2026/12/02/1-ok.jpg";
    const t = await s3.createUploadTarget(key, { contentType: "image/jpeg", size: body.length, sha256: sha(body) });
    expect(t.url.startsWith(`${gatewayUrl}${STORAGE_S3_PREFIX}/${BUCKET}/`)).toBe(true);
    const before = { connections: link.stats.connections, requests: link.stats.requests.length };

    const api = await send(`${gatewayUrl}/functions/v1/devices/upload-urls`, "POST", { "content-type": "application/json" }, Buffer.from("{}"));
    expect(api).toMatchObject({ status: 200 });
    expect(JSON.parse(api.text)).toEqual({ path: "/devices/upload-urls" });
    const put = await send(t.url, "PUT", t.headers, body);
    expect(put.status).toBe(200);
    expect(put.reused).toBe(true);
    expect(link.stats.connections - before.connections).toBe(1);
    expect(link.stats.requests.slice(before.requests).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /functions/v1/devices/upload-urls", `PUT ${STORAGE_S3_PREFIX}/${BUCKET}/${key}`,
    ]);

    // Stored under the key without the prefix, and the function's own reads (through the
    // gate's direct endpoint, prefix included) find it.
    expect(await stored(key)).toEqual({ status: 200, bytes: body });
    await expect(s3.inspectObject(key)).resolves.toMatchObject({ exists: true, size: body.length });
  });

  it("refuses a tampered PUT, one signed without the prefix, and paths outside the prefix; nothing is stored", async () => {
    const body = photo(3000);
    const signedFor = async (endpoint: string, key: string) =>
      driver(endpoint).createUploadTarget(key, { contentType: "image/jpeg", size: body.length, sha256: sha(body) });

    const k1 = "devices/a/2026/12/02/2-tampered.jpg";
    const t = await signedFor(gatewayUrl + STORAGE_S3_PREFIX, k1);
    const forged = t.url.replace(/(X-Amz-Signature=)([0-9a-f])/, (_, p, c) => p + (c === "0" ? "1" : "0"));
    const other = t.url.replace("2-tampered.jpg", "2-other.jpg");
    for (const url of [forged, other]) {
      const r = await send(url, "PUT", t.headers, body);
      expect(r.status).toBe(403);
      expect(r.text).toContain("SignatureDoesNotMatch");
    }

    // Signed for the gateway without the prefix, then sent under it: the prefix is signed.
    const k2 = "devices/a/2026/12/02/3-unprefixed.jpg";
    const bare = await signedFor(gatewayUrl, k2);
    const moved = bare.url.replace(`${gatewayUrl}/`, `${gatewayUrl}${STORAGE_S3_PREFIX}/`);
    const r = await send(moved, "PUT", bare.headers, body);
    expect(r.status).toBe(403);
    expect(r.text).toContain("SignatureDoesNotMatch");
    // Not under the prefix at all: the gateway has no such route, the gate no such path.
    expect((await send(bare.url, "PUT", bare.headers, body)).status).toBe(404);
    const direct = new URL(store.endpoint);
    const atGate = await fetch(`${direct.origin}/${BUCKET}/${k2}${new URL(bare.url).search}`, { method: "PUT", headers: bare.headers, body });
    expect(atGate.status).toBe(404);

    for (const key of [k1, "devices/a/2026/12/02/2-other.jpg", k2]) expect((await stored(key)).status).toBe(404);
  });
});

describe("pieces", () => {
  it("pathBehindPrefix keeps the query and refuses paths outside the prefix", () => {
    expect(pathBehindPrefix("/storage/v1/s3/b/k?X=1", "/storage/v1/s3")).toBe("/b/k?X=1");
    expect(pathBehindPrefix("/storage/v1/s3x/b/k", "/storage/v1/s3")).toBeNull();
    expect(pathBehindPrefix("/b/k", "/storage/v1/s3")).toBeNull();
    expect(pathBehindPrefix("/b/k", "")).toBe("/b/k");
  });

  it("requestReader frames requests split anywhere, skipping Content-Length bodies", () => {
    const wire = Buffer.from(
      "PUT /s3/b/k?X-Amz-Signature=ab HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789" +
      "POST /functions/v1/devices/ingest-batch HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}" +
      "GET /x HTTP/1.1\r\nHost: h\r\n\r\n" +
      "PUT /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /not-a-request HTTP/1.1\r\n\r\n0\r\n\r\n");
    for (const size of [1, 7, wire.length]) {
      const seen: string[] = [];
      const read = requestReader((r) => seen.push(`${r.method} ${r.path}${r.framed ? "" : " (unframed)"}`));
      for (let i = 0; i < wire.length; i += size) read(wire.subarray(i, i + size));
      expect(seen).toEqual(["PUT /s3/b/k", "POST /functions/v1/devices/ingest-batch", "GET /x", "PUT /chunked (unframed)"]);
    }
  });
});
