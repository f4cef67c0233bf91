// The SigV4 presigner against AWS's published example (S3 docs, "Authenticating
// Requests: Using Query Parameters", example presigned GET of examplebucket/test.txt).
// The local object store (s3rver) does not check signatures, so this is what proves them.
import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { createS3Driver, encodeKeyPath, presignUrl } from "../../functions/_shared/storage/s3.ts";
import { splitUploadUrl } from "../../functions/_shared/storage/driver.ts";

const AWS_EXAMPLE = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  signature: "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
};

describe("S3 SigV4 presigning", () => {
  it("reproduces AWS's published presigned-URL example", async () => {
    const client = new AwsClient({ ...AWS_EXAMPLE, service: "s3", region: "us-east-1" });
    const url = new URL(await presignUrl(client, new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      "GET", 86400, {}, new Date("2013-05-24T00:00:00Z")));
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-Credential")).toBe("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
    expect(url.searchParams.get("X-Amz-Date")).toBe("20130524T000000Z");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("86400");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toBe(AWS_EXAMPLE.signature);
  });

  it("changes the signature when the key, method or time changes", async () => {
    const client = new AwsClient({ ...AWS_EXAMPLE, service: "s3", region: "us-east-1" });
    const at = new Date("2013-05-24T00:00:00Z");
    const sig = async (path: string, method = "GET", when = at) =>
      new URL(await presignUrl(client, new URL(`https://examplebucket.s3.amazonaws.com/${path}`), method, 86400, {}, when))
        .searchParams.get("X-Amz-Signature");
    const base = await sig("test.txt");
    expect(await sig("test2.txt")).not.toBe(base);
    expect(await sig("test.txt", "PUT")).not.toBe(base);
    expect(await sig("test.txt", "GET", new Date("2013-05-24T00:00:01Z"))).not.toBe(base);
  });

  it("signs Content-Type, If-None-Match, Content-Length and the checksum into the PUT, and splits the URL for sockets", async () => {
    const driver = createS3Driver({
      endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "photos",
      accessKeyId: "k", secretAccessKey: "s", uploadTtlSeconds: 300,
    }, () => new Date("2026-01-01T00:00:00Z"));
    const sha256 = createHash("sha256").update("photo").digest("hex");
    const target = await driver.createUploadTarget("devices/abc/2026/01/01/7-a b.jpg",
      { contentType: "image/jpeg", size: 5, sha256 });
    const url = new URL(target.url);
    expect(url.pathname).toBe("/photos/devices/abc/2026/01/01/7-a%20b.jpg");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("content-length;content-type;host;if-none-match;x-amz-checksum-sha256");
    // Content-Length is signed but not listed: the device's HTTP client sends it with every body.
    expect(target.headers).toEqual({
      "Content-Type": "image/jpeg",
      "If-None-Match": "*",
      "x-amz-checksum-sha256": createHash("sha256").update("photo").digest("base64"),
    });
    expect(target.expiresAt.toISOString()).toBe("2026-01-01T00:05:00.000Z");
    const bare = await driver.createUploadTarget("devices/abc/k.jpg", { contentType: "image/jpeg" });
    expect(new URL(bare.url).searchParams.get("X-Amz-SignedHeaders")).toBe("content-type;host;if-none-match");
    const split = splitUploadUrl(target.url);
    expect(split.host).toBe("127.0.0.1");
    expect(split.port).toBe(9000);
    expect(split.path).toBe(url.pathname + url.search);
    expect(splitUploadUrl("https://x.supabase.co/storage/v1/object/upload/sign/b/k?token=t").port).toBe(443);
  });

  it("encodes key segments as RFC 3986 wants", () => {
    expect(encodeKeyPath("a/b c/d(1)!*'.jpg")).toBe("a/b%20c/d%281%29%21%2A%27.jpg");
  });
});
