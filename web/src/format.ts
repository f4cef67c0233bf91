// Pure formatting for the owner's page: times, sizes and the camera's states in words.
import type { Device } from "./api.ts";

/** A camera counts as online while its last request is this recent (a few heartbeat periods). */
export const ONLINE_WITHIN_MS = 5 * 60_000;

export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.round((now - Date.parse(iso)) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  const text = a < 45 ? `${a} s` : a < 2700 ? `${Math.round(a / 60)} min` : a < 64800 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function exactTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "—";
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function isOnline(d: Device, now = Date.now()): boolean {
  return !d.revoked_at && !!d.last_seen_at && now - Date.parse(d.last_seen_at) < ONLINE_WITHIN_MS;
}

export function stateInWords(d: Device, now = Date.now()): string {
  if (d.revoked_at) return "Revoked";
  if (!d.activated_at) return "Waiting for activation";
  return isOnline(d, now) ? "Online" : "Offline";
}

const ERROR_WORDS: Record<string, string> = {
  wifi: "Could not join Wi-Fi",
  no_wifi: "Could not join Wi-Fi",
  dns: "Could not find the server (DNS)",
  tls: "Secure connection to the server failed",
  timeout: "The server did not answer in time",
  http: "The server refused a request",
  card: "The memory card failed",
  card_error: "The memory card failed",
  card_full: "The memory card is full",
  camera: "The camera sensor failed",
  capture_failed: "Taking a photo failed",
  upload_failed: "Uploading a photo failed",
  clock: "The clock could not be set",
  token_dead: "The camera was signed out",
};

const STEP_WORDS: Record<string, string> = {
  "upload-url": "Asking where to upload failed", "upload-urls": "Asking where to upload failed", put: "Uploading a photo failed",
  ingest: "Recording an uploaded photo failed", "ingest-batch": "Recording uploaded photos failed",
};

/** The camera's last reported error as a sentence ("none" when it reported none). */
export function lastErrorInWords(code: string | null | undefined): string {
  if (!code) return "None";
  // The camera's upload errors read "<step>: HTTP <status> <code>" (status 0: no answer).
  const step = /^([\w-]+): HTTP (\d+) ?(.*)$/.exec(code);
  if (step) {
    const what = STEP_WORDS[step[1]] ?? step[1];
    return step[2] === "0" ? `${what}: the server did not answer` : `${what}: the server answered ${step[2]}${step[3] ? ` (${step[3]})` : ""}`;
  }
  const key = code.toLowerCase().split(/[:\s]/)[0];
  const words = ERROR_WORDS[key];
  return words ? `${words} (${code})` : code.replace(/[_-]+/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** Whether the camera has reported in since its settings last changed: it has seen them. */
export function settingsSeen(d: Device): boolean {
  const changed = d.settings.updated_at;
  const reported = d.status?.reported_at;
  if (!changed) return true;
  return !!reported && Date.parse(reported) >= Date.parse(changed);
}

export function countdown(expiresAt: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
