import { existsSync } from "node:fs";
import { createPrivateKey } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import { keyIdOf } from "../../scripts/cli/firmware-signing.ts";
import { readNvsImage } from "../../scripts/cli/nvs/reader.ts";
import { buildOnce, PROJECT_ROOT, runCli, tempDir } from "./harness.ts";

const GOOD = `# kitchen camera
wifi_networks:
  - ssid: home
    password: "correct horse"
  - ssid: phone hotspot
    password: ""
api_base_url: http://192.168.1.20:54321/functions/v1
pairing_code: BCDF-GHJK
capture_interval_s: 60
frame_size: SVGA
jpeg_quality: 10
chunk_size: 4096
time_zone: CET-1CEST,M3.5.0,M10.5.0/3
`;

const BAD = `wifi_networks:
  - ssid: home
    password: "correct horse"
  - ssid: phone
    password: short
api_base_url: ftp://example.com
capture_interval_s: "30"
frame_size: BIG
jpeg_quality: 2.5
chunk_size: 100000
wifi: []
time_zone: ""
`;

let dir: string;
beforeAll(async () => {
  await buildOnce();
  dir = await tempDir();
});

async function writeConfig(name: string, text: string) {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("render", () => {
  it("writes the sketch folder with the provisioning header and prints the next command", async () => {
    const config = await writeConfig("camera.yaml", GOOD);
    const r = await runCli(["render", config, "--out", join(dir, "build")], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const version = /\(config version ([0-9a-f]{8})\)/.exec(r.stdout)![1];
    expect(r.stdout).toMatch(new RegExp(`^Rendered \\d+ files into build/lifelog_camera \\(config version ${version}\\)\\.\n`));
    expect(r.stdout).toMatch(/\nNext: lifelog-devices flash build\/lifelog_camera --port <serial port, e\.g\. \/dev\/ttyACM0>\n$/);
    // The portal's WPA2 credentials: generated once into the config, shown as text (and QR), baked in.
    const saved = parse(await readFile(config, "utf8")) as { portal_ssid: string; portal_password: string };
    expect(saved.portal_ssid).toMatch(/^Lifelog-Setup-[A-Z0-9]{4}$/);
    expect(saved.portal_password).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(r.stdout).toContain(`Setup portal: Wi-Fi "${saved.portal_ssid}", password ${saved.portal_password} (new, saved in the config)`);
    const header = await readFile(join(dir, "build/lifelog_camera/lifelog_config.h"), "utf8");
    expect(header).toContain(`#define LIFELOG_PORTAL_PASSWORD "${saved.portal_password}"`);
    expect(header).toContain(`#define LIFELOG_CONFIG_VERSION 0x${version}u`);
    expect(header).toContain('#define LIFELOG_PAIRING_CODE "BCDF-GHJK"');
    expect(header).toContain('  {"home", "correct horse"}, \\');
    expect(existsSync(join(dir, "build/lifelog_camera/lifelog_camera.ino"))).toBe(true);
    expect(existsSync(join(dir, "build/lifelog_camera/provisioning.cpp"))).toBe(true);
  });

  it("--core library writes no core into the folder; an unknown --core is a usage error that writes nothing", async () => {
    const config = await writeConfig("library.yaml", GOOD);
    const r = await runCli(["render", config, "--out", join(dir, "lib-build"), "--core", "library"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("installed LifelogCore library");
    const sketch = join(dir, "lib-build", "lifelog_camera");
    expect(existsSync(join(sketch, "lifelog_camera.ino"))).toBe(true);
    expect(existsSync(join(sketch, "src"))).toBe(false);
    expect(await readFile(join(sketch, "lifelog_core.h"), "utf8")).toContain("#include <LifelogCore.h>");

    const untouched = await writeConfig("untouched.yaml", GOOD);
    const bad = await runCli(["render", untouched, "--out", join(dir, "bad-build"), "--core", "copied"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--core must be one of bundled, library, not "copied"/);
    expect(existsSync(join(dir, "bad-build"))).toBe(false);
    expect(await readFile(untouched, "utf8")).toBe(GOOD); // no portal credentials generated into it either
  });

  it("reports every mistake with file:line:column and a plain message (exit 3)", async () => {
    const config = await writeConfig("bad.yaml", BAD);
    const r = await runCli(["render", config, "--out", join(dir, "never")]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        `error: ${config} is not a valid device config (8 problems):`,
        "  bad.yaml:5:15: wifi_networks[1].password: the password is shorter than 8 characters (WPA2 needs 8-63)",
        "  bad.yaml:6:15: api_base_url: must be http(s)://host[:port][/path]",
        "  bad.yaml:7:21: capture_interval_s: must be a number (write 30 without quotes)",
        "  bad.yaml:8:13: frame_size: must be one of QXGA, UXGA, SXGA, HD, XGA, SVGA, VGA, CIF, QVGA",
        "  bad.yaml:9:15: jpeg_quality: must be a whole number",
        "  bad.yaml:10:13: chunk_size: must be at most 8192",
        '  bad.yaml:11:1: wifi: unknown setting (did you mean "wifi_networks"?)',
        "  bad.yaml:12:12: time_zone: must not be empty",
        "",
      ].join("\n"),
    );
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  it("gives positions in JSON configs too, and explains missing and cross-field settings", async () => {
    const config = await writeConfig("camera.json", `{\n  "wifi_networks": [],\n  "api_base_url": "https://abc.supabase.co/functions/v1",\n  "frame_size": 5\n}\n`);
    const r = await runCli(["render", config]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("  camera.json:4:17: frame_size: must be one of QXGA, UXGA, SXGA, HD, XGA, SVGA, VGA, CIF, QVGA\n");
    const https = await writeConfig("https.yaml", "api_base_url: https://abc.supabase.co/functions/v1\n");
    const r2 = await runCli(["render", https]);
    expect(r2.stderr).toBe(
      `error: ${https} is not a valid device config (1 problem):\n` +
        "  https.yaml:1:1: root_ca_pem: an https API needs root_ca_pem (or dev_insecure_tls for development)\n",
    );
    const missing = await writeConfig("missing.yaml", "wifi_networks: []\n");
    expect((await runCli(["render", missing])).stderr).toContain("  missing.yaml:1:1: api_base_url: is required\n");
  });

  it("refuses broken YAML, a device token and a missing file", async () => {
    const yaml = await writeConfig("broken.yaml", "api_base_url: http://x\napi_base_url: http://y\n");
    const r = await runCli(["render", yaml]);
    expect(r).toMatchObject({ code: 3 });
    expect(r.stderr).toContain("  broken.yaml:2:1: this key appears twice\n");
    const token = await writeConfig("token.yaml", "api_base_url: http://192.168.1.2/functions/v1\npairing_code: devtok_abc\n");
    expect((await runCli(["render", token])).stderr).toContain("  token.yaml:1:1: a device token (devtok_...) must never be baked into a sketch\n");
    const none = await runCli(["render", join(dir, "nope.yaml")]);
    expect(none).toMatchObject({ code: 3, stderr: `error: cannot read config ${join(dir, "nope.yaml")}: no such file\n` });
  });
});

describe("render with the release key", () => {
  /** Every file of a rendered sketch folder, as text. */
  async function renderedText(sketchDir: string): Promise<string[]> {
    const names = (await readdir(sketchDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    return Promise.all(names.map((e) => readFile(join(e.parentPath, e.name), "utf8")));
  }

  it("bakes the public half of keygen's key into the sketch, and never the private key", async () => {
    const configDir = await tempDir();
    const env = { LIFELOG_CONFIG_DIR: configDir };
    const made = await runCli(["keygen", "--json"], { env });
    expect(made.code, made.stderr).toBe(0);
    const { public_key: publicKey, key_id: keyId } = JSON.parse(made.stdout) as { public_key: string; key_id: string };
    const config = await writeConfig("ota.yaml", GOOD);
    const r = await runCli(["render", config, "--out", join(dir, "ota-build"), "--json"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).release_key_id).toBe(keyId);
    const sketchDir = join(dir, "ota-build", "lifelog_camera");
    const header = await readFile(join(sketchDir, "lifelog_config.h"), "utf8");
    expect(header).toContain(`#define LIFELOG_RELEASE_PUBLIC_KEY_HEX "${publicKey}"`);

    // The private key in every form it could leak: the PEM, its base64 body, the raw 32-byte seed.
    const pem = await readFile(join(configDir, "release-key.pem"), "utf8");
    const body = pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    const seed = createPrivateKey(pem).export({ format: "jwk" }).d!;
    const seedHex = Buffer.from(seed, "base64url").toString("hex");
    const texts = await renderedText(sketchDir);
    expect(texts.length).toBeGreaterThan(10);
    for (const text of texts) {
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toContain(body);
      expect(text).not.toContain(seed);
      expect(text.toLowerCase()).not.toContain(seedHex);
    }
  });

  it("takes an explicit public key, and refuses a bad one with a clear message (nothing written)", async () => {
    const key = "AB".repeat(32);
    const config = await writeConfig("explicit.yaml", GOOD);
    const r = await runCli(["render", config, "--out", join(dir, "explicit-build"), "--release-public-key", key],
      { env: { LIFELOG_CONFIG_DIR: await tempDir() } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Updates over the air: releases signed with key ${keyIdOf(key.toLowerCase())} (--release-public-key).`);
    const header = await readFile(join(dir, "explicit-build/lifelog_camera/lifelog_config.h"), "utf8");
    expect(header).toContain(`#define LIFELOG_RELEASE_PUBLIC_KEY_HEX "${"ab".repeat(32)}"`);

    for (const bad of ["ab".repeat(31), "zz".repeat(32), "ab".repeat(33)]) {
      const refused = await runCli(["render", config, "--out", join(dir, "bad-key-build"), "--release-public-key", bad]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("--release-public-key must be the 32-byte Ed25519 public key as 64 hex digits");
    }
    const inConfig = await writeConfig("bad-key.yaml", `${GOOD}release_public_key: "${"ab".repeat(16)}"\n`);
    const refused = await runCli(["render", inConfig, "--out", join(dir, "bad-key-build")], { env: { LIFELOG_CONFIG_DIR: await tempDir() } });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("  bad-key.yaml:14:21: release_public_key: must be the 32-byte Ed25519 public key as 64 hex digits (as `lifelog-devices keygen` prints it)\n");
    expect(existsSync(join(dir, "bad-key-build"))).toBe(false);
  });

  it("renders a camera without updates when there is no key, and says so", async () => {
    const config = await writeConfig("no-key.yaml", GOOD);
    const r = await runCli(["render", config, "--out", join(dir, "no-key-build")], { env: { LIFELOG_CONFIG_DIR: await tempDir() } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("this camera will not take updates over the air");
    const header = await readFile(join(dir, "no-key-build/lifelog_camera/lifelog_config.h"), "utf8");
    expect(header).toContain('#define LIFELOG_RELEASE_PUBLIC_KEY_HEX ""');
  });
});

/** The firmware's NVS key names, read from its headers: the sketch's settings and the core's activation keys. */
async function firmwareKeys(): Promise<Record<string, string>> {
  const headers = await Promise.all(["firmware-config/sketch/device_settings.h", "firmware-config/core/include/lifelog/activation_key.h"]
    .map((path) => readFile(join(PROJECT_ROOT, path), "utf8")));
  return Object.fromEntries(headers.flatMap((h) => [...h.matchAll(/constexpr const char\* (k\w+) = "([^"]+)";/g)]).map((m) => [m[1], m[2]]));
}

describe("nvs", () => {
  it("writes an image that decodes to exactly the config's settings under the firmware's keys", async () => {
    const config = await writeConfig("fleet-1.yaml", GOOD);
    const image = join(dir, "fleet-1.nvs.bin");
    const r = await runCli(["nvs", config, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toEqual({ image, bytes: 0x5000, offset: "0x9000", config_version: expect.stringMatching(/^[0-9a-f]{8}$/) });

    const k = await firmwareKeys();
    const portal = parse(await readFile(config, "utf8")) as { portal_ssid: string; portal_password: string };
    const { entries } = readNvsImage(new Uint8Array(await readFile(image)));
    const byKey = Object.fromEntries(entries.map((e) => [e.key, { type: e.type, value: e.value }]));
    expect(entries.every((e) => e.namespace === "lifelog")).toBe(true); // NvsStore::kNamespace
    expect(byKey).toEqual({
      [k.kApiBaseUrl]: { type: "string", value: "http://192.168.1.20:54321/functions/v1" },
      wifi_ssid_0: { type: "string", value: "home" }, // device_settings.cpp network_keys()
      wifi_pass_0: { type: "string", value: "correct horse" },
      wifi_ssid_1: { type: "string", value: "phone hotspot" },
      wifi_pass_1: { type: "string", value: "" },
      [k.kNetworkCount]: { type: "u32", value: 2 },
      [k.kCaptureIntervalS]: { type: "u32", value: 60 },
      [k.kFrameSize]: { type: "string", value: "SVGA" },
      [k.kJpegQuality]: { type: "u32", value: 10 },
      [k.kChunkSize]: { type: "u32", value: 4096 },
      [k.kTimeZone]: { type: "string", value: "CET-1CEST,M3.5.0,M10.5.0/3" },
      [k.kPairingCodeKey]: { type: "string", value: "BCDF-GHJK" },
      [k.kPortalSsid]: { type: "string", value: portal.portal_ssid },
      [k.kPortalPassword]: { type: "string", value: portal.portal_password },
      [k.kConfigVersion]: { type: "u32", value: parseInt(result.config_version, 16) },
    });
    expect(k.kDeviceTokenKey).toBe("device_token"); // the key the firmware keeps its token under…
    expect(Object.keys(byKey)).not.toContain(k.kDeviceTokenKey); // …is never in an image
  });

  it("takes the config version of the fleet firmware from its sketch folder", async () => {
    const fleet = await writeConfig("fleet.yaml", "api_base_url: http://192.168.1.20:54321/functions/v1\n");
    const rendered = await runCli(["render", fleet, "--out", join(dir, "fleet-build"), "--json"]);
    const firmwareVersion = JSON.parse(rendered.stdout).config_version;
    const camera = await writeConfig("camera-7.yaml", GOOD);
    const r = await runCli(["nvs", camera, "--firmware", join(dir, "fleet-build/lifelog_camera"), "--out", join(dir, "camera-7.bin")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`config version ${firmwareVersion} from ${join(dir, "fleet-build/lifelog_camera/lifelog_config.h")}`);
    const { entries } = readNvsImage(new Uint8Array(await readFile(join(dir, "camera-7.bin"))));
    expect(entries.find((e) => e.key === "cfg_version")?.value).toBe(parseInt(firmwareVersion, 16));
  });

  it("--decode prints entries with secrets masked unless --show-secrets", async () => {
    const image = join(dir, "decode.nvs.bin");
    expect((await runCli(["nvs", await writeConfig("decode.yaml", GOOD), "--out", image])).code).toBe(0);
    const r = await runCli(["nvs", "--decode", image]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  lifelog/wifi_pass_0   string  (hidden)\n");
    expect(r.stdout).toContain("  lifelog/wifi_pass_1   string  (empty)\n");
    expect(r.stdout).toContain("  lifelog/pairing_code  string  (hidden)\n");
    expect(r.stdout).toContain("  lifelog/jpeg_quality  u32     10\n");
    expect(r.stdout).not.toContain("correct horse");
    expect(r.stdout).not.toContain("BCDF-GHJK");
    const json = await runCli(["nvs", "--decode", image, "--json"]);
    expect(json.stdout).not.toContain("correct horse");
    const shown = await runCli(["nvs", "--decode", image, "--show-secrets"]);
    expect(shown.stdout).toContain("  lifelog/wifi_pass_0   string  correct horse\n");
    expect(shown.stdout).toContain("  lifelog/pairing_code  string  BCDF-GHJK\n");
  });

  it("refuses a file that is not an NVS image, a bad --config-version and a bad --size", async () => {
    const junk = join(dir, "junk.bin");
    await writeFile(junk, Buffer.alloc(100));
    expect(await runCli(["nvs", "--decode", junk])).toMatchObject({
      code: 1,
      stderr: `error: ${junk} is not a valid NVS image: image size must be a positive multiple of 4096 bytes, got 100\n`,
    });
    const config = await writeConfig("v.yaml", GOOD);
    expect(await runCli(["nvs", config, "--config-version", "xyz"])).toMatchObject({
      code: 2,
      stderr: "error: --config-version must be up to 8 hex digits, got xyz\n",
    });
    expect(await runCli(["nvs", config, "--size", "0x1000"])).toMatchObject({
      code: 2,
      stderr: "error: --size must be at least 0x3000 bytes (3 pages), got 0x1000 (e.g. 0x5000)\n",
    });
    expect(await runCli(["nvs", config, "--size", "5000"])).toMatchObject({
      code: 2,
      stderr: "error: --size must be a positive multiple of 4096 bytes, got 5000 (e.g. 0x5000)\n",
    });
  });
});
