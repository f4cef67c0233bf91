// The setup portal's access point name and WPA2 password: one pair per camera, generated once
// into its config (so every render and NVS image of that config agrees), shown as text and as a
// Wi-Fi QR code a phone can scan to join.
import { randomInt } from "node:crypto";
import QRCode from "qrcode";

import type { SketchConfig } from "../firmware/sketch-config.ts";
import { CONFIG_LIMITS } from "../firmware/config-limits.ts";
import { updateConfigFile } from "./config-file.ts";
import type { Output } from "./output.ts";

// No look-alikes (0/O, 1/l/I): typed by hand from a screen on a phone.
const ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";

function randomText(length: number): string {
  return Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
}

/** The config with portal_ssid and portal_password, generating and saving whichever is missing. */
export async function ensurePortalCredentials(configPath: string, config: SketchConfig): Promise<{ config: SketchConfig; generated: boolean }> {
  if (config.portal_ssid && config.portal_password) return { config, generated: false };
  const values = {
    portal_ssid: config.portal_ssid ?? `Lifelog-Setup-${randomText(4).toUpperCase()}`,
    // 16 characters of a 55-letter alphabet: about 92 bits.
    portal_password: config.portal_password ?? randomText(CONFIG_LIMITS.portalPassword),
  };
  await updateConfigFile(configPath, values);
  return { config: { ...config, ...values }, generated: true };
}

/** WIFI: URI (ZXing's Wi-Fi format, read by the Android and iOS cameras); \ ; , : " escaped. */
export function wifiQrText(ssid: string, password: string): string {
  const escape = (s: string) => s.replace(/([\\;,:"])/g, "\\$1");
  return `WIFI:T:WPA;S:${escape(ssid)};P:${escape(password)};;`;
}

export async function showPortalCredentials(out: Output, config: SketchConfig, generated: boolean): Promise<void> {
  if (!config.portal_ssid || !config.portal_password) return;
  out.line(`Setup portal: Wi-Fi "${config.portal_ssid}", password ${config.portal_password}${generated ? " (new, saved in the config)" : ""}`);
  out.line("It opens by itself only while the camera is unpaired, or after holding BOOT for 5 s. Scan to join:");
  out.line(await QRCode.toString(wifiQrText(config.portal_ssid, config.portal_password), { type: "terminal", small: true }));
}
