// What a user may bake into a camera sketch. Wi-Fi passwords and the pairing code are the only
// secrets allowed in here; a device token never is (the device obtains it at activation).
import { z } from "zod";
import { DEVICE_TOKEN_PREFIX } from "../../functions/_shared/auth/device-token.ts";

/** esp32-camera frame sizes the sketch knows by name (camera_glue.cpp keeps the same table). */
const FRAME_SIZES = ["QXGA", "UXGA", "SXGA", "HD", "XGA", "SVGA", "VGA", "CIF", "QVGA"] as const;

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");
const looksLikeDeviceToken = (s: string) => s.includes(DEVICE_TOKEN_PREFIX);

const WifiNetworkSchema = z
  .object({
    ssid: z.string().min(1).refine((s) => utf8Length(s) <= 32, "SSID is at most 32 bytes"),
    // Empty for an open network; otherwise a WPA2 passphrase (8-63 chars) or 64 hex digits.
    password: z.string().refine((s) => s === "" || (s.length >= 8 && utf8Length(s) <= 64), "password must be empty or 8-64 bytes"),
  })
  .strict();

export const SketchConfigSchema = z
  .object({
    wifi_networks: z.array(WifiNetworkSchema).max(4).default([]),
    api_base_url: z
      .string()
      .max(159)
      .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s?#]*)?$/, "api_base_url must be http(s)://host[:port][/path]"),
    pairing_code: z.string().min(1).max(39).regex(/^[\x21-\x7e]+$/, "pairing_code is printable ASCII without spaces").optional(),
    capture_interval_s: z.number().int().min(5).max(86_400).default(30),
    frame_size: z.enum(FRAME_SIZES).default("UXGA"),
    jpeg_quality: z.number().int().min(4).max(63).default(12),
    chunk_size: z.number().int().min(512).max(8192).default(8192),
    root_ca_pem: z.string().includes("-----BEGIN CERTIFICATE-----").optional(),
    time_zone: z.string().min(1).max(63).default("UTC0"),
    dev_insecure_tls: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.api_base_url.startsWith("https://") && !c.root_ca_pem && !c.dev_insecure_tls) {
      ctx.addIssue({ code: "custom", path: ["root_ca_pem"], message: "an https API needs root_ca_pem (or dev_insecure_tls for development)" });
    }
    const values = [c.api_base_url, c.pairing_code ?? "", c.time_zone, ...c.wifi_networks.flatMap((n) => [n.ssid, n.password])];
    if (values.some(looksLikeDeviceToken)) {
      ctx.addIssue({ code: "custom", message: "a device token (devtok_...) must never be baked into a sketch" });
    }
  });

export type SketchConfigInput = z.input<typeof SketchConfigSchema>;
export type SketchConfig = z.output<typeof SketchConfigSchema>;
