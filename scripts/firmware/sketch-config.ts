// What a user may bake into a camera sketch. Wi-Fi passwords and the pairing code are the only
// secrets allowed in here; a device token never is (the device obtains it at activation).
import { z } from "zod";
import { DEVICE_TOKEN_PREFIX } from "../../functions/_shared/auth/device-token.ts";
import { CONFIG_LIMITS as L, utf8Length, wifiCredentialsProblem } from "./config-limits.ts";

/** esp32-camera frame sizes the sketch knows by name (camera_glue.cpp keeps the same table). */
const FRAME_SIZES = ["QXGA", "UXGA", "SXGA", "HD", "XGA", "SVGA", "VGA", "CIF", "QVGA"] as const;

const looksLikeDeviceToken = (s: string) => s.includes(DEVICE_TOKEN_PREFIX);

/** Limits are in bytes (the firmware's buffers and the radio count bytes, not characters). */
const maxBytes = (max: number) => (s: string) => utf8Length(s) <= max;
const bytesMessage = (max: number) => `must be at most ${max} bytes in UTF-8 (the firmware's buffer)`;

// Empty password for an open network; otherwise a WPA2 passphrase or 64 hex digits.
const WifiNetworkSchema = z
  .object({ ssid: z.string(), password: z.string() })
  .strict()
  .superRefine((n, ctx) => {
    const problem = wifiCredentialsProblem(n.ssid, n.password);
    if (problem) ctx.addIssue({ code: "custom", path: [problem.includes("SSID") ? "ssid" : "password"], message: problem });
  });

/** host ≤ kMaxApiHostBytes, path ≤ kMaxApiPrefixBytes: what parse_base_url() can hold. */
function apiUrlParts(url: string): { host: string; path: string } | undefined {
  const m = /^https?:\/\/([^/:]+)(:\d{1,5})?(\/.*)?$/.exec(url);
  return m ? { host: m[1], path: m[3] ?? "" } : undefined;
}

// GPIOs the XIAO ESP32S3 Sense leaves free: not the camera's (10-18, 38-40, 47, 48), not the
// card's (7, 8, 9, 21), not the strapping pin GPIO3 (D2), not UART0 (43, 44).
export const PRIVACY_LED_PINS = [-1, 1, 2, 4, 5, 6];

/** The raw Ed25519 public key that signs firmware releases, as hex. */
export const RELEASE_PUBLIC_KEY_HEX = /^[0-9a-fA-F]{64}$/;
export const RELEASE_PUBLIC_KEY_RULE = "must be the 32-byte Ed25519 public key as 64 hex digits (as `lifelog-devices keygen` prints it)";

export const SketchConfigSchema = z
  .object({
    wifi_networks: z.array(WifiNetworkSchema).max(4).default([]),
    api_base_url: z
      .string()
      .refine(maxBytes(L.apiBaseUrl), bytesMessage(L.apiBaseUrl))
      .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s?#]*)?$/, "api_base_url must be http(s)://host[:port][/path]")
      .refine((u) => { const p = apiUrlParts(u); return !p || (utf8Length(p.host) <= L.apiHost && utf8Length(p.path) <= L.apiPrefix); },
        `the host may be at most ${L.apiHost} bytes and the path at most ${L.apiPrefix} bytes`),
    pairing_code: z.string().min(1).max(L.pairingCode).regex(/^[\x21-\x7e]+$/, "pairing_code is printable ASCII without spaces").optional(),
    capture_interval_s: z.number().int().min(5).max(86_400).default(30),
    frame_size: z.enum(FRAME_SIZES).default("UXGA"),
    jpeg_quality: z.number().int().min(4).max(63).default(12),
    chunk_size: z.number().int().min(512).max(8192).default(8192),
    root_ca_pem: z.string().includes("-----BEGIN CERTIFICATE-----").optional(),
    time_zone: z.string().min(1).regex(/^[\x20-\x7e]*$/, "time_zone is a POSIX TZ string in ASCII (e.g. CET-1CEST,M3.5.0,M10.5.0/3)")
      .refine(maxBytes(L.timeZone), bytesMessage(L.timeZone)).default("UTC0"),
    dev_insecure_tls: z.boolean().default(false),
    // The privacy LED (steady while the owner pauses the camera): an external LED on a GPIO the
    // Sense board leaves free (see sketch/privacy_led.h for the pin sources), or -1 for none.
    privacy_led_pin: z.number().int().refine((p) => PRIVACY_LED_PINS.includes(p),
      `privacy_led_pin must be one of ${PRIVACY_LED_PINS.join(", ")} (a free GPIO: D0 = 1, D1 = 2, D3 = 4, D4 = 5, D5 = 6) or -1 for none`)
      .default(2),
    // The setup portal's WPA2 access point; `render` and `nvs` generate both when absent.
    portal_ssid: z.string().min(1).regex(/^[\x20-\x7e]+$/, "portal_ssid is printable ASCII").refine(maxBytes(L.ssid), bytesMessage(L.ssid)).optional(),
    portal_password: z.string().regex(/^[\x20-\x7e]*$/, "portal_password is printable ASCII")
      .min(L.minPassphrase, `portal_password needs at least ${L.minPassphrase} characters (WPA2)`)
      .max(L.maxPassphrase, `portal_password may have at most ${L.maxPassphrase} characters (WPA2)`).optional(),
    // The raw Ed25519 public key that signs firmware releases (not a secret); absent: no updates.
    release_public_key: z.string()
      .regex(RELEASE_PUBLIC_KEY_HEX, RELEASE_PUBLIC_KEY_RULE)
      .transform((k) => k.toLowerCase()).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.api_base_url.startsWith("https://") && !c.root_ca_pem && !c.dev_insecure_tls) {
      ctx.addIssue({ code: "custom", path: ["root_ca_pem"], message: "an https API needs root_ca_pem (or dev_insecure_tls for development)" });
    }
    const values = [c.api_base_url, c.pairing_code ?? "", c.time_zone, c.portal_password ?? "", ...c.wifi_networks.flatMap((n) => [n.ssid, n.password])];
    if (values.some(looksLikeDeviceToken)) {
      ctx.addIssue({ code: "custom", message: "a device token (devtok_...) must never be baked into a sketch" });
    }
  });

export type SketchConfigInput = z.input<typeof SketchConfigSchema>;
export type SketchConfig = z.output<typeof SketchConfigSchema>;
