// The byte limits the firmware lives by, read from its own header
// (firmware-config/core/include/lifelog/config_limits.h) so the config schema, the portal and the
// firmware share one set of numbers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { firmwareRoot } from "../cli/package-root.ts";

const NAMES = {
  ssid: "kMaxSsidBytes",
  minPassphrase: "kMinPassphraseBytes",
  maxPassphrase: "kMaxPassphraseBytes",
  pskHex: "kPskHexBytes",
  apiBaseUrl: "kMaxApiBaseUrlBytes",
  apiHost: "kMaxApiHostBytes",
  apiPrefix: "kMaxApiPrefixBytes",
  timeZone: "kMaxTimeZoneBytes",
  pairingCode: "kMaxPairingCodeBytes",
  portalPassword: "kPortalPasswordBytes",
} as const;

export type ConfigLimits = Record<keyof typeof NAMES, number>;

export function parseConfigLimits(header: string): ConfigLimits {
  const limits = {} as ConfigLimits;
  for (const [key, name] of Object.entries(NAMES) as [keyof typeof NAMES, string][]) {
    const m = new RegExp(`constexpr size_t ${name} = (\\d+);`).exec(header);
    if (!m) throw new Error(`config_limits.h does not define ${name}`);
    limits[key] = Number(m[1]);
  }
  return limits;
}

export const CONFIG_LIMITS: ConfigLimits = parseConfigLimits(
  readFileSync(join(firmwareRoot(), "core/include/lifelog/config_limits.h"), "utf8"),
);

export const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

/** The same rule as wifi_credentials_problem() in config_limits.cpp, in the same words. */
export function wifiCredentialsProblem(ssid: string, password: string): string | undefined {
  const L = CONFIG_LIMITS;
  if (ssid === "") return "the SSID is empty";
  if (utf8Length(ssid) > L.ssid) return `the SSID is longer than ${L.ssid} bytes (the radio takes at most ${L.ssid}; this one is ${utf8Length(ssid)})`;
  if (password === "") return undefined;
  const n = utf8Length(password);
  if (n === L.pskHex) return /^[0-9a-fA-F]+$/.test(password) ? undefined : `a ${L.pskHex}-character password must be ${L.pskHex} hex digits (a raw WPA2 key)`;
  if (n < L.minPassphrase) return `the password is shorter than ${L.minPassphrase} characters (WPA2 needs ${L.minPassphrase}-${L.maxPassphrase})`;
  if (n > L.maxPassphrase) return `the password is longer than ${L.maxPassphrase} characters (or ${L.pskHex} hex digits)`;
  if (!/^[\x20-\x7e]+$/.test(password)) return "the password may hold only ASCII letters, digits, spaces and symbols";
  return undefined;
}
