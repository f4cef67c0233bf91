// Client input that once answered 500 or reached the owner's screen as is: deeply nested
// JSON on every JSON route, malformed percent-encoding in a device id, and text with
// controls, escapes or bidi overrides in owner-visible fields. Each is a 4xx with a stable
// code that writes nothing; what is shown is safe even for text already stored.
import { describe, expect, it } from "vitest";
import { showable } from "../../functions/_shared/printable.ts";
import { deviceRows, table } from "../../scripts/cli/commands/devices.ts";
import { createApi } from "../../web/src/api.ts";
import { objectStoreChecksum, tableChecksums } from "../support/checksums.ts";
import { heartbeat, validHeartbeat } from "../support/lifecycle.ts";
import { activatedDevice, deviceHeaders, newUser, pairDevice, post, sql, stack, uploadUrlBody } from "../support/stack.ts";

/** `{"a":[[[…]]]}`, `depth` arrays deep: 2 bytes a level, so 7,000 levels fit in 16 KiB. */
const nested = (depth: number) => `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`;

// Not printable, each for its own reason: ANSI colour and clear-screen, carriage return,
// backspace, C1 CSI, the right-to-left override and isolate, a line separator.
const UNPRINTABLE = ["cam\u001b[31mred", "\u001b[2Jcam", "cam\rother", "cam\bx", "cam\u009b31m", "\u202ecam.exe",
  "cam\u2067x\u2069", "cam\u2028two"];

describe("deeply nested JSON", () => {
  it("answers 400 json_too_deep on every JSON route, and changes nothing", async () => {
    const device = await activatedDevice();
    const bearer = { authorization: `Bearer ${device.user.token}` };
    const dev = deviceHeaders(device.token);
    // Every route that reads a JSON body (rotate and revoke take none); a batch's items are its bodies.
    const routes: Array<[string, Record<string, string>]> = [
      ["pair", bearer], ["activate", {}], ["upload-url", dev], ["ingest", dev], ["upload-urls", dev], ["ingest-batch", dev],
      ["heartbeat", dev], [`${device.deviceId}/rename`, bearer], [`${device.deviceId}/settings`, bearer],
    ];
    const tablesBefore = await tableChecksums();
    const storeBefore = await objectStoreChecksum();
    const answers: string[] = [];
    for (const [route, headers] of routes) {
      const batch = route.endsWith("-urls") || route.endsWith("-batch");
      for (const depth of [33, 1000, 7000]) {
        const body = batch ? `{"items":[${nested(depth)}]}` : nested(depth);
        expect(body.length).toBeLessThan(16 * 1024);
        const r = await post<{ error?: { code?: string }; results?: Array<{ status: number; body: { error?: { code?: string } } }> }>(
          route, body, headers);
        const item = r.body.results?.[0];
        answers.push(batch
          ? `${route} ${depth}: call ${r.status}, item ${item?.status} ${item?.body.error?.code}`
          : `${route} ${depth}: ${r.status} ${r.body.error?.code}`);
      }
    }
    expect(answers.filter((a) => !/: (400|call 200, item 400) json_too_deep$/.test(a))).toEqual([]);
    expect(await tableChecksums()).toEqual(tablesBefore);
    expect(await objectStoreChecksum()).toEqual(storeBefore);
  });

  it("nesting up to the limit is still read (then checked against the route's schema)", async () => {
    const device = await activatedDevice();
    const r = await post("heartbeat", { ...validHeartbeat, extra: JSON.parse(`${"[".repeat(30)}${"]".repeat(30)}`) },
      deviceHeaders(device.token));
    expect(r.status).toBe(200);
  });

  it("in a batch, the deep item alone is refused; the others are served", async () => {
    const device = await activatedDevice();
    const deep = `{"seq":2,"filename":"b.jpg","content_type":"image/jpeg","x":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    const body = `{"items":[${JSON.stringify(uploadUrlBody(1))},${deep}]}`;
    const r = await post<{ results: Array<{ status: number; body: { error?: { code: string } } }> }>(
      "upload-urls", body, deviceHeaders(device.token));
    expect(r.status).toBe(200);
    expect(r.body.results.map((x) => x.status)).toEqual([200, 400]);
    expect(r.body.results[1].body.error?.code).toBe("json_too_deep");
  });
});

describe("device ids in the path", () => {
  it("malformed percent-encoding is 404 device_not_found on every owner route", async () => {
    const user = await newUser();
    const before = await tableChecksums();
    const answers: string[] = [];
    for (const id of ["%", "%zz", "%E0%A4%A", "%ED%A0%80", "%C0%AF", "%%", "abc%2", "%FF%FE"]) {
      for (const action of ["rename", "revoke", "settings"]) {
        const r = await post(`${id}/${action}`, action === "rename" ? { name: "x" } : {}, { authorization: `Bearer ${user.token}` });
        answers.push(`${id}/${action}: ${r.status} ${(r.body as { error?: { code?: string } }).error?.code}`);
      }
    }
    expect(answers.filter((a) => !/: 404 device_not_found$/.test(a))).toEqual([]);
    expect(await tableChecksums()).toEqual(before);
  });
});

describe("owner-visible text", () => {
  it("pair, rename and heartbeat refuse controls, escapes and bidi overrides (400), and write nothing", async () => {
    const user = await newUser();
    const device = await activatedDevice();
    const before = await tableChecksums();
    const [statusBefore] = await sql`select count(*)::int as n from public.device_status`;
    const answers: string[] = [];
    for (const text of UNPRINTABLE) {
      const pair = await post("pair", { name: text }, { authorization: `Bearer ${user.token}` });
      const rename = await post(`${device.deviceId}/rename`, { name: text }, { authorization: `Bearer ${device.user.token}` });
      const beat = await heartbeat(device.token, { ...validHeartbeat, last_error: text });
      for (const [what, r] of [["pair", pair], ["rename", rename], ["heartbeat", beat]] as const) {
        const error = (r.body as { error?: { code?: string; message?: string } }).error;
        answers.push(`${what} ${JSON.stringify(text)}: ${r.status} ${error?.code} ${/printable/.test(error?.message ?? "")}`);
      }
    }
    expect(answers.filter((a) => !/: 400 invalid_request true$/.test(a))).toEqual([]);
    expect(await tableChecksums()).toEqual(before);
    const [statusAfter] = await sql`select count(*)::int as n from public.device_status`;
    expect(statusAfter.n).toBe(statusBefore.n);
  });

  it("printable text of any script is accepted as it is", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token, "Küche 📷 مطبخ 台所");
    const [row] = await sql`select name from public.devices where id = ${paired.device_id}`;
    expect(row.name).toBe("Küche 📷 مطبخ 台所");
  });

  it("the CLI's table and the web page show stored unsafe text harmlessly", async () => {
    // Text stored before the schema refused it (written behind the API).
    const device = await activatedDevice();
    const hostile = "\u001b]0;pwned\u0007\u001b[2J\u202eevil\r";
    await sql`update public.devices set name = ${hostile} where id = ${device.deviceId}`;
    expect((await heartbeat(device.token)).status).toBe(200);
    await sql`update public.device_status set last_error = ${hostile} where device_id = ${device.deviceId}`;

    const api = createApi(stack.api_base, "anon", async () => device.user.token);
    const [shown] = await api.listDevices();
    expect(shown.name).toBe(showable(hostile));
    expect(shown.status?.last_error).toBe(showable(hostile));
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    expect(shown.name).not.toMatch(unsafe);
    expect(shown.status?.last_error).not.toMatch(unsafe);

    const res = await fetch(`${stack.api_base}/devices`, { headers: { authorization: `Bearer ${device.user.token}` } });
    const { devices } = await res.json();
    expect(devices[0].name).toBe(hostile); // the API itself returns what is stored (JSON escapes it)
    const printed = table(deviceRows(devices));
    for (const line of printed.split("\n")) expect(line).not.toMatch(unsafe);
    expect(printed).toContain("\uFFFD]0;pwned");
  });
});
