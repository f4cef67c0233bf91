// Every refusal: its status, its stable code, a human message, and nothing written.
import { describe, expect, it } from "vitest";
import { generateDeviceToken } from "../../functions/_shared/auth/device-token.ts";
import { routeSegments } from "../../functions/devices/dispatch.ts";
import { ROUTES } from "../../functions/devices/registry.ts";
import {
  activatedDevice, type ApiResult, deviceHeaders, expirePairingCode, fakeJpeg, ingestBody, newUser, pairDevice, post,
  sql, stack, tableCounts, type UploadTargetBody, uploadPhoto, uploadUrlBody,
} from "../support/stack.ts";

async function expectRefusal(call: () => Promise<ApiResult>, status: number, code: string) {
  const before = await tableCounts();
  const r = await call();
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ error: { code } });
  const error = (r.body as { error: { message: string } }).error;
  expect(error.message.length).toBeGreaterThan(10);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(await tableCounts()).toEqual(before);
  return r;
}

describe("device token refusals", () => {
  it("no token → 401 missing_token", async () => {
    await expectRefusal(() => post("upload-url", uploadUrlBody(1)), 401, "missing_token");
  });
  it("malformed token → 401 malformed_token", async () => {
    await expectRefusal(() => post("upload-url", uploadUrlBody(1), deviceHeaders("devtok_short")), 401, "malformed_token");
    await expectRefusal(() => post("ingest", ingestBody("devices/x/1.jpg", 1), deviceHeaders("Bearer abc")), 401, "malformed_token");
  });
  it("wrong checksum → 401 malformed_token, without a database lookup", async () => {
    const device = await activatedDevice();
    const t = device.token;
    const typo = t.slice(0, -1) + (t.endsWith("A") ? "B" : "A");
    await expectRefusal(() => post("upload-url", uploadUrlBody(1), deviceHeaders(typo)), 401, "malformed_token");
  });
  it("well-formed but unknown token → 401 invalid_token", async () => {
    await expectRefusal(() => post("upload-url", uploadUrlBody(1), deviceHeaders(generateDeviceToken())), 401, "invalid_token");
  });
  it("revoked token → 401 token_revoked on the very next request", async () => {
    const device = await activatedDevice();
    const target = await uploadPhoto(device.token, 1, fakeJpeg());
    await sql`update public.devices set revoked_at = now() where id = ${device.deviceId}`;
    await expectRefusal(() => post("upload-url", uploadUrlBody(2), deviceHeaders(device.token)), 401, "token_revoked");
    await expectRefusal(() => post("ingest", ingestBody(target.object_key, 1), deviceHeaders(device.token)), 401, "token_revoked");
  });
});

describe("pairing refusals", () => {
  it("pair without or with a bad access token → 401", async () => {
    await expectRefusal(() => post("pair", {}), 401, "missing_authorization");
    await expectRefusal(() => post("pair", {}, { authorization: "Bearer not.a.jwt" }), 401, "invalid_authorization");
  });
  it("a code that was never issued → 404 pairing_code_invalid", async () => {
    await expectRefusal(() => post("activate", { pairing_code: "BBBB-BBBB" }), 404, "pairing_code_invalid");
    await expectRefusal(() => post("activate", { pairing_code: "not a code" }), 404, "pairing_code_invalid");
  });
  it("an expired code → 410 pairing_code_expired", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token);
    await expirePairingCode(paired.device_id);
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code }), 410, "pairing_code_expired");
  });
  it("a used code → 409 pairing_code_used, also spelled differently", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token);
    expect((await post("activate", { pairing_code: paired.pairing_code })).status).toBe(201);
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code }), 409, "pairing_code_used");
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code.replace("-", "").toLowerCase() }),
      409, "pairing_code_used");
    const [code] = await sql`select attempts from public.device_pairing_codes where device_id = ${paired.device_id}`;
    expect(code.attempts).toBe(2);
  });
});

describe("upload-url and ingest refusals", () => {
  it("a path as filename → 400 invalid_request naming the field", async () => {
    const device = await activatedDevice();
    const r = await expectRefusal(() => post("upload-url", { ...uploadUrlBody(1), filename: "../../x.jpg" },
      deviceHeaders(device.token)), 400, "invalid_request");
    expect(JSON.stringify(r.body)).toContain("filename");
  });
  it("a body that is not JSON → 400 invalid_json", async () => {
    const device = await activatedDevice();
    await expectRefusal(() => post("upload-url", "{not json", deviceHeaders(device.token)), 400, "invalid_json");
  });
  it("missing fields → 400 invalid_request listing them", async () => {
    const device = await activatedDevice();
    const r = await expectRefusal(() => post("ingest", { object_key: "devices/x/1.jpg" }, deviceHeaders(device.token)),
      400, "invalid_request");
    const paths = ((r.body as { error: { details: Array<{ path: string }> } }).error.details).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["captured_at", "seq"]));
  });
  it("a photo type we do not take → 415 unsupported_content_type", async () => {
    const device = await activatedDevice();
    await expectRefusal(() => post("upload-url", { ...uploadUrlBody(1), content_type: "image/gif" },
      deviceHeaders(device.token)), 415, "unsupported_content_type");
  });
  it("a request body that is not application/json → 415 unsupported_media_type", async () => {
    const device = await activatedDevice();
    await expectRefusal(() => post("upload-url", JSON.stringify(uploadUrlBody(1)),
      { ...deviceHeaders(device.token), "content-type": "text/plain" }), 415, "unsupported_media_type");
  });
  it("a body over 16 KiB → 413 payload_too_large; a declared photo over the limit → 413 photo_too_large", async () => {
    const device = await activatedDevice();
    await expectRefusal(() => post("ingest", ingestBody("devices/x/1.jpg", 1, { metadata: { pad: "x".repeat(20_000) } }),
      deviceHeaders(device.token)), 413, "payload_too_large");
    await expectRefusal(() => post("upload-url", { ...uploadUrlBody(1), size: 50 * 1024 * 1024 },
      deviceHeaders(device.token)), 413, "photo_too_large");
  });
  it("another device's object key → 403 object_key_forbidden", async () => {
    const owner = await activatedDevice();
    const intruder = await activatedDevice();
    const target = await uploadPhoto(owner.token, 5, fakeJpeg());
    await expectRefusal(() => post("ingest", ingestBody(target.object_key, 5), deviceHeaders(intruder.token)),
      403, "object_key_forbidden");
    await expectRefusal(() => post("ingest", ingestBody(`devices/${intruder.deviceId}/made-up.jpg`, 5),
      deviceHeaders(intruder.token)), 403, "object_key_forbidden");
  });
  it("an object that is not in storage → 409 object_missing, and the ingest works once it is", async () => {
    const device = await activatedDevice();
    const target = await post<UploadTargetBody>("upload-url", uploadUrlBody(3), deviceHeaders(device.token));
    await expectRefusal(() => post("ingest", ingestBody(target.body.object_key, 3), deviceHeaders(device.token)),
      409, "object_missing");
    const put = await fetch(target.body.upload_url, { method: "PUT", headers: target.body.upload_headers, body: fakeJpeg() });
    expect(put.status).toBe(200);
    expect((await post("ingest", ingestBody(target.body.object_key, 3), deviceHeaders(device.token))).body.status).toBe("queued");
  });
  it("the same seq with another object → 409 seq_conflict", async () => {
    const device = await activatedDevice();
    const a = await uploadPhoto(device.token, 10, fakeJpeg());
    await uploadPhoto(device.token, 11, fakeJpeg());
    expect((await post("ingest", ingestBody(a.object_key, 10), deviceHeaders(device.token))).status).toBe(201);
    await expectRefusal(() => post("ingest", ingestBody(a.object_key, 11), deviceHeaders(device.token)), 409, "seq_conflict");
  });
  it("unknown routes and methods → 404 not_found / 405 method_not_allowed", async () => {
    await expectRefusal(() => post("nope", {}), 404, "not_found");
    const before = await tableCounts();
    const r = await fetch(`${stack.api_base}/devices/pair`);
    expect(r.status).toBe(405);
    expect(await r.json()).toMatchObject({ error: { code: "method_not_allowed" } });
    expect(await tableCounts()).toEqual(before);
  });
});

describe("activation retries", () => {
  const key = "k3y-0f-th1s-dev1ce-a1b2c3d4";
  it("the same device (same activation key) may activate again after a lost answer; the unseen token dies", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token);
    const first = await post<{ device_id: string; device_token: string }>("activate", { pairing_code: paired.pairing_code, activation_key: key });
    expect(first.status).toBe(201);
    const again = await post<{ device_id: string; device_token: string }>("activate", { pairing_code: paired.pairing_code, activation_key: key });
    expect(again.status).toBe(201);
    expect(again.body.device_id).toBe(first.body.device_id);
    expect(again.body.device_token).not.toBe(first.body.device_token);
    const photo = { filename: "a.jpg", content_type: "image/jpeg", seq: 1 };
    expect((await post("upload-url", photo, deviceHeaders(first.body.device_token))).status).toBe(401);
    expect((await post("upload-url", photo, deviceHeaders(again.body.device_token))).status).toBe(200);
  });
  it("another key, no key, or a malformed key cannot reuse the code", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token);
    expect((await post("activate", { pairing_code: paired.pairing_code, activation_key: key })).status).toBe(201);
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code, activation_key: `${key}-other` }), 409, "pairing_code_used");
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code }), 409, "pairing_code_used");
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code, activation_key: "short" }), 400, "invalid_request");
  });
  it("not after the code has expired", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token);
    expect((await post("activate", { pairing_code: paired.pairing_code, activation_key: key })).status).toBe(201);
    await expirePairingCode(paired.device_id);
    await expectRefusal(() => post("activate", { pairing_code: paired.pairing_code, activation_key: key }), 409, "pairing_code_used");
  });
});

describe("every declared route", () => {
  // From the registry: a route added there is checked here without an edit.
  const credentialsOf = { user: ["authorization", 401, "missing_authorization"], device: ["x-device-token", 401, "missing_token"] } as const;
  const fakeId = "0b0e9f6c-52a1-4f6e-9d1e-3c0a5b2f1e77";
  for (const route of ROUTES.filter((r) => r.auth !== "pairing-code")) {
    const [, status, code] = credentialsOf[route.auth as "user" | "device"];
    it(`${route.method} ${route.path} without credentials → ${status} ${code}, nothing written`, async () => {
      const path = routeSegments(route.path).map((s) => s.startsWith(":") ? fakeId : s).join("/");
      await expectRefusal(async () => {
        const res = await fetch(`${stack.api_base}/devices/${path}`, {
          method: route.method, headers: { "content-type": "application/json" }, body: route.method === "GET" ? undefined : "{}",
        });
        return { status: res.status, body: await res.json(), headers: res.headers };
      }, status, code);
    });
  }
});
