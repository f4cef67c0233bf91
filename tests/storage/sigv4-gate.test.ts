// The local object store's signature gate: AWS's published example must pass, and any
// change to what was signed (path, method, host, signed header, time) must not.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { checkSha256, verifyPresigned } from "../../scripts/stack/sigv4-gate.ts";
import { activatedDevice, deviceHeaders, fakeJpeg, getObject, post, stack, type UploadTargetBody } from "../support/stack.ts";

const AWS_EXAMPLE_URL = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
  "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
  "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
  "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
const secrets = { AKIAIOSFODNN7EXAMPLE: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const example = { method: "GET", url: AWS_EXAMPLE_URL, host: "examplebucket.s3.amazonaws.com", headers: {} };
const during = new Date("2013-05-24T12:00:00Z");

describe("SigV4 gate (pure verifier)", () => {
  it("accepts AWS's published presigned-URL example", () => {
    expect(verifyPresigned(example, secrets, during)).toEqual({ ok: true });
  });
  it("refuses the example with anything changed", () => {
    expect(verifyPresigned({ ...example, method: "PUT" }, secrets, during).ok).toBe(false);
    expect(verifyPresigned({ ...example, url: example.url.replace("/test.txt", "/test2.txt") }, secrets, during).ok).toBe(false);
    expect(verifyPresigned({ ...example, host: "otherbucket.s3.amazonaws.com" }, secrets, during).ok).toBe(false);
    expect(verifyPresigned({ ...example, url: example.url.replace("aeeed9", "aeeed8") }, secrets, during).ok).toBe(false);
    expect(verifyPresigned(example, { AKIAIOSFODNN7EXAMPLE: "other" }, during).ok).toBe(false);
    expect(verifyPresigned(example, secrets, new Date("2013-05-25T00:00:01Z"))).toMatchObject({ ok: false, reason: "request has expired" });
    expect(verifyPresigned({ ...example, url: "/test.txt" }, secrets, during).ok).toBe(false);
  });
});

describe("SigV4 gate: what S3 checks besides the signature", () => {
  it("refuses x-amz-* headers the signature does not cover", () => {
    const v = verifyPresigned({ ...example, headers: { "x-amz-checksum-sha256": "x" } }, secrets, during);
    expect(v).toMatchObject({ ok: false, code: "AccessDenied" });
  });
  it("compares the body with x-amz-checksum-sha256 (400 BadDigest) and refuses a malformed value (400 InvalidRequest)", () => {
    const body = Buffer.from("photo bytes");
    const right = createHash("sha256").update(body).digest("base64");
    expect(checkSha256(body, right)).toBeNull();
    expect(checkSha256(body, undefined)).toBeNull();
    expect(checkSha256(Buffer.from("photo bytez"), right)).toMatchObject({ status: 400, code: "BadDigest" });
    expect(checkSha256(body, "abc")).toMatchObject({ status: 400, code: "InvalidRequest" });
  });
});

describe("SigV4 gate in the local stack", () => {
  async function target(seq: number) {
    const device = await activatedDevice();
    const r = await post<UploadTargetBody>("upload-url", { filename: `g${seq}.jpg`, content_type: "image/jpeg", seq },
      deviceHeaders(device.token));
    return { device, target: r.body };
  }

  it("lets the signed PUT through and refuses it for another key, another type or unsigned", async () => {
    const { target: t } = await target(1);
    expect(t.upload_url.startsWith(stack.storage.endpoint)).toBe(true);
    const put = (url: string, headers = t.upload_headers) =>
      fetch(url, { method: "PUT", headers, body: fakeJpeg(512) }).then(async (r) => { await r.body?.cancel(); return r.status; });

    const otherKey = t.upload_url.replace(/\/devices\/[0-9a-f-]+\//, "/devices/00000000-0000-0000-0000-000000000000/");
    expect(otherKey).not.toBe(t.upload_url);
    expect(await put(otherKey)).toBe(403);
    expect(await put(t.upload_url, { "Content-Type": "text/html" })).toBe(403);
    expect(await put(t.upload_url.split("?")[0])).toBe(403);
    expect(await put(t.upload_url)).toBe(200);
  });

  // The board's abort() is a plain close (lwIP is built without SO_LINGER), so an upload cut
  // short ends with a FIN after part of the body: the gate must see a short body, not a whole one.
  it("refuses a PUT whose connection ends cleanly before its Content-Length (400 IncompleteBody) and stores nothing", async () => {
    const { target: t } = await target(2);
    const body = fakeJpeg(4096);
    const url = new URL(t.upload_url);
    const head = [`PUT ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, `Content-Length: ${body.length}`,
      ...Object.entries(t.upload_headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(head);
        socket.end(Buffer.from(body.subarray(0, body.length / 2))); // half the body, then FIN
      });
      let got = "";
      socket.on("data", (c: Buffer) => { got += c.toString("latin1"); });
      socket.on("close", () => resolve(got));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain("<Code>IncompleteBody</Code>");
    expect(await getObject(t.object_key)).toBeNull();
  });
});
