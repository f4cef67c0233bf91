// One set of byte limits from the config file to the firmware: a config with every string at its
// longest (in bytes, with multi-byte UTF-8 where the field allows it) passes the schema, goes into
// an NVS image, is read back from that image and loaded by the firmware's own device_settings.cpp
// (compiled here with g++) byte for byte; one byte more is refused at config time, with its reason.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

import { parseConfigText } from "../../scripts/cli/config-file.ts";
import { readNvsImage } from "../../scripts/cli/nvs/reader.ts";
import { writeNvsImage } from "../../scripts/cli/nvs/writer.ts";
import { NVS_SIZE, nvsEntriesFor } from "../../scripts/cli/nvs-settings.ts";
import { CONFIG_LIMITS, parseConfigLimits, utf8Length } from "../../scripts/firmware/config-limits.ts";
import { renderSketch } from "../../scripts/firmware/render-sketch.ts";
import type { SketchConfig } from "../../scripts/firmware/sketch-config.ts";
import { tempDir } from "../support/temp.ts";

const run = promisify(execFile);
const bytes = (n: number, unit: string) => unit.repeat(n / utf8Length(unit));
const hex = (s: string) => Buffer.from(s, "utf8").toString("hex");

// Reads an NVS dump (key type hexvalue per line) into the firmware's KeyValueStore interface,
// runs device::load_settings and prints what the firmware holds, as hex.
const LOADER = `
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include "device_settings.h"
#include "src/lifelog/device_api.h"
struct DumpKv : lifelog::KeyValueStore {
  std::map<std::string, std::string> s; std::map<std::string, uint32_t> u;
  bool get_str(const char* k, char* out, size_t cap) override {
    auto it = s.find(k); if (it == s.end() || it->second.size() + 1 > cap) return false;
    memcpy(out, it->second.c_str(), it->second.size() + 1); return true; }
  bool put_str(const char* k, const char* v) override { s[k] = v; return true; }
  bool get_u32(const char* k, uint32_t* o) override { auto it = u.find(k); if (it == u.end()) return false; *o = it->second; return true; }
  bool put_u32(const char* k, uint32_t v) override { u[k] = v; return true; }
  bool get_u64(const char*, uint64_t*) override { return false; }
  bool put_u64(const char*, uint64_t) override { return false; }
  bool erase(const char* k) override { return s.erase(k) + u.erase(k) > 0; }
};
static std::string unhex(const char* h) { std::string o; for (size_t i = 0; h[i] && h[i+1]; i += 2) { unsigned b; sscanf(h + i, "%2x", &b); o += char(b); } return o; }
static void out(const char* name, const char* v) { printf("%s ", name); for (const char* p = v; *p; ++p) printf("%02x", (unsigned char)*p); printf("\\n"); }
int main(int, char** argv) {
  DumpKv kv; FILE* f = fopen(argv[1], "r"); char k[64], t[8], v[1024];
  while (fscanf(f, "%63s %7s %1023s", k, t, v) == 3) { if (t[0] == 's') kv.s[k] = v[0] == '-' ? "" : unhex(v); else kv.u[k] = unsigned(strtoul(v, nullptr, 10)); }
  device::Settings st; if (!device::load_settings(kv, &st)) return 3;
  out("api_base_url", st.api_base_url); out("time_zone", st.time_zone);
  lifelog::ApiEndpoint ep; printf("api_parses %d\\n", int(lifelog::parse_base_url(st.api_base_url, &ep)));
  for (size_t i = 0; i < st.network_count; ++i) { out("ssid", st.networks[i].ssid); out("password", st.networks[i].password); }
  char code[device::kPairingCodeCap]; if (device::load_pairing_code(kv, code, sizeof(code))) out("pairing_code", code);
  char pw[device::kPortalPasswordCap]; if (kv.get_str(device::key::kPortalPassword, pw, sizeof(pw))) out("portal_password", pw);
}
`;

function longestConfig(): string {
  const L = CONFIG_LIMITS;
  // host and path each within what parse_base_url() holds (kMaxApiHostBytes, kMaxApiPrefixBytes)
  const prefix = "http://api.lifelog-camera-example.test/";
  const path = bytes(L.apiBaseUrl - utf8Length(prefix), "é"); // 2-byte letters in the path
  return [
    "wifi_networks:",
    `  - ssid: "${bytes(L.ssid, "é")}"`, // 16 characters, 32 bytes
    `    password: "${bytes(L.maxPassphrase, "~")}"`,
    `  - ssid: "${bytes(L.ssid, "📷")}"`, // 8 characters, 32 bytes
    `    password: "${"a1F".repeat(21)}c"`, // 64 hex digits: a raw WPA2 key
    `api_base_url: "${prefix}${path}"`,
    `time_zone: "${("<+0330>-3:30<+0430>,J79/24,J263/24" + "x".repeat(L.timeZone)).slice(0, L.timeZone)}"`,
    `pairing_code: "${"B".repeat(L.pairingCode)}"`,
    `portal_ssid: "Lifelog-Setup-ABCD"`,
    `portal_password: "${"p".repeat(L.maxPassphrase)}"`,
    "",
  ].join("\n");
}

describe("config byte limits, schema -> NVS image -> firmware", () => {
  it("come from the firmware's header", async () => {
    const header = await readFile(join(import.meta.dirname, "../../firmware-config/core/include/lifelog/config_limits.h"), "utf8");
    expect(parseConfigLimits(header)).toEqual(CONFIG_LIMITS);
    expect(CONFIG_LIMITS.ssid).toBe(32); // arduino-esp32 3.x STA.cpp: strlen(ssid) > 32 is refused
    expect(() => parseConfigLimits("// nothing")).toThrow(/kMaxSsidBytes/);
  });

  it("carry a maximum-length UTF-8 config intact", async () => {
    const parsed = parseConfigText(longestConfig());
    expect(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems)).toBe(true);
    const config = (parsed as { ok: true; config: SketchConfig }).config;
    expect(utf8Length(config.api_base_url)).toBe(CONFIG_LIMITS.apiBaseUrl);
    expect(config.api_base_url.length).toBeLessThan(CONFIG_LIMITS.apiBaseUrl); // characters < bytes
    expect(config.wifi_networks.map((n) => utf8Length(n.ssid))).toEqual([32, 32]);
    expect(config.wifi_networks[1].password).toMatch(/^[0-9a-fA-F]{64}$/);

    const image = writeNvsImage(nvsEntriesFor(config, 0x12345678), { size: NVS_SIZE });
    const { entries } = readNvsImage(image);
    const dir = await tempDir();
    const dump = entries.map((e) => `${e.key} ${e.type === "string" ? "s" : "u"} ${e.type === "string" ? hex(String(e.value)) || "-" : String(e.value)}`).join("\n");
    await writeFile(join(dir, "nvs.txt"), dump + "\n");

    const { sketchDir } = await renderSketch(config, dir);
    await writeFile(join(dir, "load.cpp"), LOADER);
    await run("g++", ["-std=gnu++17", "-Wall", "-Werror", `-I${sketchDir}`, "-DLIFELOG_CJSON_FLAT_INCLUDE", "-I/usr/include/cjson",
      join(dir, "load.cpp"), join(sketchDir, "device_settings.cpp"), join(sketchDir, "src/config_limits.cpp"),
      join(sketchDir, "src/device_api.cpp"), join(sketchDir, "src/http.cpp"), join(sketchDir, "src/json.cpp"), join(sketchDir, "src/retry_after.cpp"),
      join(sketchDir, "src/utc_time.cpp"), "-lcjson", "-o", join(dir, "load")]);
    const { stdout } = await run(join(dir, "load"), [join(dir, "nvs.txt")]);
    expect(stdout).toBe([
      `api_base_url ${hex(config.api_base_url)}`,
      `time_zone ${hex(config.time_zone)}`,
      "api_parses 1",
      ...config.wifi_networks.flatMap((n) => [`ssid ${hex(n.ssid)}`, `password ${hex(n.password)}`]),
      `pairing_code ${hex(config.pairing_code!)}`,
      `portal_password ${hex(config.portal_password!)}`,
      "",
    ].join("\n"));
  }, 60_000);

  it("refuse one byte more at config time, saying why", () => {
    const tooLong = (text: string) => {
      const r = parseConfigText(text);
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    const api = "api_base_url: http://x.test/functions/v1\n";
    // 33 bytes in 17 characters: the radio (STA.cpp, wifi_sta_config_t.ssid[32]) cannot take it.
    expect(tooLong(`${api}wifi_networks:\n  - ssid: "${bytes(32, "é")}x"\n    password: ""\n`)).toEqual([
      "wifi_networks[0].ssid: the SSID is longer than 32 bytes (the radio takes at most 32; this one is 33)",
    ]);
    expect(tooLong(`${api}wifi_networks:\n  - ssid: home\n    password: "${"p".repeat(64)}"\n`)).toEqual([
      "wifi_networks[0].password: a 64-character password must be 64 hex digits (a raw WPA2 key)",
    ]);
    expect(tooLong(`api_base_url: "http://x.test/${bytes(146, "é")}"\n`)[0]).toBe("api_base_url: must be at most 159 bytes in UTF-8 (the firmware's buffer)");
    expect(tooLong(`${api}time_zone: "Europe/Zürich"\n`)).toEqual(["time_zone: is a POSIX TZ string in ASCII (e.g. CET-1CEST,M3.5.0,M10.5.0/3)"]);
    expect(tooLong(`${api}time_zone: "${"x".repeat(64)}"\n`)).toEqual(["time_zone: must be at most 63 bytes in UTF-8 (the firmware's buffer)"]);
  });
});
