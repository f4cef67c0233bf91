// The photo worker's own S3 client (scripts/storage/node-s3-store.ts): its signatures against
// AWS's published example and, request for request, against the Edge Function's aws4fetch
// signer; its reads and writes through the local stack's SigV4 gate (which refuses any bad
// signature); and the answers it must not take for success.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStorageConfig } from "../../functions/_shared/config.ts";
import { ApiError } from "../../functions/_shared/errors.ts";
import { ObjectTooLargeError } from "../../functions/_shared/storage/driver.ts";
import { objectUrl, presignUrl } from "../../functions/_shared/storage/s3.ts";
import { createNodeS3Store, presignNode } from "../../scripts/storage/node-s3-store.ts";
import { localWorkerEnv } from "../../scripts/worker/stack-env.ts";
import { stack } from "../support/stack.ts";

const AWS_EXAMPLE = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
};

const code = async (p: Promise<unknown>) => p.then(() => "resolved", (e) => (e instanceof ApiError ? e.code : String(e)));

describe("the worker's SigV4 presigning (node:crypto)", () => {
  it("reproduces AWS's published presigned-URL example", () => {
    const url = presignNode(AWS_EXAMPLE, new URL("https://examplebucket.s3.amazonaws.com/test.txt"), "GET", 86400, {},
      new Date("2013-05-24T00:00:00Z"));
    expect(url.searchParams.get("X-Amz-Credential")).toBe("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toBe("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  });

  it("signs exactly what aws4fetch signs: methods, headers, odd keys, ports and path prefixes", async () => {
    const creds = { accessKeyId: "k1", secretAccessKey: "s/1+2", region: "eu-west-3" };
    const client = new AwsClient({ ...creds, service: "s3" });
    const cases: Array<[string, string, string, Record<string, string>]> = [
      ["http://127.0.0.1:9000", "GET", "derivatives/ab/preview.webp", {}],
      ["http://127.0.0.1:9000", "PUT", "derivatives/ab/thumb nail (1)*!'.webp", { "Content-Type": "image/webp" }],
      ["https://project.supabase.co/storage/v1/s3", "DELETE", "devices/x/2026/01/01/7-ü.jpg", {}],
      ["https://s3.example.com", "PUT", "a/b", { "Content-Type": "image/jpeg", "If-None-Match": "*", "x-amz-checksum-sha256": "q+/=" }],
    ];
    const keys = new Map<string, Buffer>();
    for (const [endpoint, method, key, headers] of cases) {
      for (const at of ["2026-12-08T10:00:00Z", "2026-12-09T00:00:01Z"]) {
        const url = objectUrl({ endpoint, bucket: "photos" }, key);
        const theirs = await presignUrl(client, url, method, 60, headers, new Date(at));
        const mine = presignNode(creds, url, method, 60, headers, new Date(at), keys).toString();
        expect(new URL(mine).searchParams.get("X-Amz-Signature")).toBe(new URL(theirs).searchParams.get("X-Amz-Signature"));
        expect(new URL(mine).pathname).toBe(new URL(theirs).pathname);
      }
    }
  });
});

describe("the worker's S3 client against the local stack's gate", () => {
  const config = () => loadStorageConfig(localWorkerEnv(stack));
  const s3 = () => {
    const s = config().storage;
    if (s.driver !== "s3") throw new Error("the local stack runs the s3 driver");
    return s;
  };

  it("writes, reads back byte for byte, refuses over the limit, and deletes", async () => {
    const store = createNodeS3Store(s3());
    try {
      const key = `derivatives/node-store-test/${crypto.randomUUID()}/preview.webp`;
      const bytes = new Uint8Array(randomBytes(100_000));
      expect(await store.getObject(key, 1 << 20)).toBeNull();
      await store.putObject(key, bytes, "image/webp");
      expect(Buffer.from((await store.getObject(key, 1 << 20))!).equals(Buffer.from(bytes))).toBe(true);
      await expect(store.getObject(key, 99_999)).rejects.toBeInstanceOf(ObjectTooLargeError);
      // the same kept-alive connections still serve after a response was cut off
      expect((await store.getObject(key, 100_000))!.length).toBe(100_000);
      await store.deleteObject(key);
      await store.deleteObject(key);
      expect(await store.getObject(key, 1 << 20)).toBeNull();
      const [url] = await store.signDownloadUrls([key], 60);
      expect(new URL(url).searchParams.get("X-Amz-Expires")).toBe("60");
    } finally {
      store.close();
    }
  });

  it("takes a wrong secret for a misconfiguration, not for a missing photo", async () => {
    const store = createNodeS3Store({ ...s3(), secretAccessKey: "not-the-secret" });
    try {
      expect(await code(store.getObject("derivatives/any/preview.webp", 1024))).toBe("storage_misconfigured");
      expect(await code(store.putObject("derivatives/any/preview.webp", new Uint8Array(3), "image/webp"))).toBe("storage_unavailable");
    } finally {
      store.close();
    }
  });
});

describe("the worker's S3 client on a store that fails", () => {
  let server: Server;
  let endpoint = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.includes("/short")) {
        res.writeHead(200, { "content-length": "1000" });
        res.write(Buffer.alloc(10));
        setTimeout(() => res.destroy(), 20);
      } else if (req.url?.includes("/error")) {
        res.writeHead(500).end("<Error><Code>InternalError</Code></Error>");
      } else {
        res.writeHead(200).end("ok");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("answers storage_unavailable for a body cut short, a 5xx and a store that is not there", async () => {
    const settings = { endpoint, region: "us-east-1", bucket: "photos", accessKeyId: "k", secretAccessKey: "s" };
    const store = createNodeS3Store(settings);
    const gone = createNodeS3Store({ ...settings, endpoint: "http://127.0.0.1:9" });
    try {
      expect(await code(store.getObject("short", 1 << 20))).toBe("storage_unavailable");
      expect(await code(store.getObject("error", 1 << 20))).toBe("storage_unavailable");
      expect(await code(store.putObject("error", new Uint8Array(1), "image/webp"))).toBe("storage_unavailable");
      expect(await code(store.deleteObject("error"))).toBe("storage_unavailable");
      expect(await code(store.putObject("fine", new Uint8Array(1), "image/webp"))).toBe("resolved");
      expect(await code(gone.getObject("any", 1024))).toBe("storage_unavailable");
    } finally {
      store.close();
      gone.close();
    }
  });
});
