// A device config as the NVS entries the firmware reads (namespace "lifelog", keys and types of
// firmware-config/sketch/device_settings.* and provisioning.cpp). The root CA and dev_insecure_tls
// are compiled into the firmware and have no NVS key; a device token never goes here.
import type { SketchConfig } from "../firmware/sketch-config.ts";
import type { NvsEntry } from "./nvs/format.ts";

const NVS_NAMESPACE = "lifelog";
/** Arduino-ESP32 default 8 MB partition table (default_8MB.csv). */
export const NVS_OFFSET = 0x9000;
export const NVS_SIZE = 0x5000;

export const NvsKey = {
  configVersion: "cfg_version",
  apiBaseUrl: "api_url",
  pairingCode: "pairing_code",
  captureIntervalS: "interval_s",
  frameSize: "frame_size",
  jpegQuality: "jpeg_quality",
  chunkSize: "chunk_size",
  timeZone: "time_zone",
  networkCount: "wifi_count",
  portalSsid: "portal_ssid",
  portalPassword: "portal_pass",
  ssid: (i: number) => `wifi_ssid_${i}`,
  password: (i: number) => `wifi_pass_${i}`,
} as const;

/** Keys whose values are shown only with --show-secrets. */
export function isSecretKey(key: string): boolean {
  return key === NvsKey.pairingCode || key.startsWith("wifi_pass_") || key === NvsKey.portalPassword || key === "device_token";
}

/**
 * `configVersion` must equal LIFELOG_CONFIG_VERSION of the firmware the camera runs: with any
 * other value, provision_from_config() overwrites these settings with the compiled-in ones.
 */
export function nvsEntriesFor(config: SketchConfig, configVersion: number): NvsEntry[] {
  const entry = (key: string, type: NvsEntry["type"], value: NvsEntry["value"]): NvsEntry => ({ namespace: NVS_NAMESPACE, key, type, value });
  const entries: NvsEntry[] = [entry(NvsKey.apiBaseUrl, "string", config.api_base_url)];
  config.wifi_networks.forEach((network, i) => {
    entries.push(entry(NvsKey.ssid(i), "string", network.ssid), entry(NvsKey.password(i), "string", network.password));
  });
  entries.push(
    entry(NvsKey.networkCount, "u32", config.wifi_networks.length),
    entry(NvsKey.captureIntervalS, "u32", config.capture_interval_s),
    entry(NvsKey.frameSize, "string", config.frame_size),
    entry(NvsKey.jpegQuality, "u32", config.jpeg_quality),
    entry(NvsKey.chunkSize, "u32", config.chunk_size),
    entry(NvsKey.timeZone, "string", config.time_zone),
  );
  if (config.portal_ssid) entries.push(entry(NvsKey.portalSsid, "string", config.portal_ssid));
  if (config.portal_password) entries.push(entry(NvsKey.portalPassword, "string", config.portal_password));
  if (config.pairing_code) entries.push(entry(NvsKey.pairingCode, "string", config.pairing_code));
  // Last, as on the device: the version marks the settings as complete.
  entries.push(entry(NvsKey.configVersion, "u32", configVersion));
  return entries;
}
