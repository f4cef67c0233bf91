import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError } from "../../functions/_shared/errors.ts";
import { MAX_JSON_BODY_BYTES, readJsonBody } from "../../functions/_shared/request.ts";
import { UploadUrlRequest } from "../../functions/devices/routes/upload-url.ts";
import { IngestRequest } from "../../functions/devices/routes/ingest.ts";

const schema = z.object({ n: z.number() });
const req = (body: string, type = "application/json") =>
  new Request("http://x/devices/y", { method: "POST", headers: { "content-type": type }, body });

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(() => null, (e) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe("readJsonBody", () => {
  it("returns the validated body", async () => {
    expect(await readJsonBody(req('{"n":1}', "application/json; charset=utf-8"), schema)).toEqual({ n: 1 });
  });
  it("refuses other media types with 415", async () => {
    const e = await refusal(readJsonBody(req('{"n":1}', "text/plain"), schema));
    expect([e.status, e.code]).toEqual([415, "unsupported_media_type"]);
  });
  it("refuses a body that is not JSON with 400 invalid_json", async () => {
    const e = await refusal(readJsonBody(req("{n:1"), schema));
    expect([e.status, e.code]).toEqual([400, "invalid_json"]);
  });
  it("refuses an oversized body with 413", async () => {
    const e = await refusal(readJsonBody(req(JSON.stringify({ n: 1, pad: "x".repeat(MAX_JSON_BODY_BYTES) })), schema));
    expect([e.status, e.code]).toEqual([413, "payload_too_large"]);
  });
  it("names each invalid field", async () => {
    const e = await refusal(readJsonBody(req('{"n":"one"}'), schema));
    expect([e.status, e.code]).toEqual([400, "invalid_request"]);
    expect(e.message).toMatch(/^n: /);
  });
});

describe("route schemas", () => {
  it("accept a plain photo file name and refuse paths", () => {
    const ok = { filename: "2025-12-26T10-15-30Z_000123.jpg", content_type: "image/jpeg", seq: 123 };
    expect(UploadUrlRequest.safeParse(ok).success).toBe(true);
    for (const filename of ["../../x.jpg", "a/b.jpg", "..jpg", ".hidden.jpg", "x.png", "x.jpg\u0000", ""]) {
      expect(UploadUrlRequest.safeParse({ ...ok, filename }).success, filename).toBe(false);
    }
    for (const seq of [-1, 1.5, "1", 2 ** 60]) {
      expect(UploadUrlRequest.safeParse({ ...ok, seq }).success, String(seq)).toBe(false);
    }
  });
  it("require an ISO timestamp and a seq for ingest", () => {
    const ok = { object_key: "devices/x/1.jpg", captured_at: "2025-12-26T10:15:30Z", seq: 1 };
    expect(IngestRequest.parse(ok).ntp_synced).toBe(false);
    expect(IngestRequest.safeParse({ ...ok, captured_at: "yesterday" }).success).toBe(false);
    expect(IngestRequest.safeParse({ ...ok, seq: undefined }).success).toBe(false);
    expect(IngestRequest.safeParse({ ...ok, object_key: "other/x.jpg" }).success).toBe(false);
  });
});
