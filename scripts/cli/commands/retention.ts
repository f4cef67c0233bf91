import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS } from "../devices-api.ts";
import { usageError } from "../errors.ts";
import { photosClient, type RetentionPolicy } from "../photos-api.ts";

const UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };

/** "5GB", "500 MB", "1234" → bytes; "none" → null. */
export function parseQuota(text: string): number | null {
  if (/^(none|off)$/i.test(text.trim())) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?b?)$/i.exec(text.trim());
  const bytes = m ? Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw usageError(`--quota wants a size like 5GB or 500MB, or none; not ${text}`);
  return bytes;
}

function wholeDays(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > 3650) throw usageError(`${flag} wants whole days from ${min} to 3650, not ${text}`);
  return n;
}

export function describePolicy(p: RetentionPolicy): string {
  const gb = (b: number) => `${(b / 1e9).toFixed(b < 1e9 ? 3 : 1)} GB`;
  return [
    `Originals are kept ${p.originals_days} days; after that only the preview and thumbnail.`,
    `Hidden photos (dark, blurry, near-duplicate; not pinned) are deleted ${p.hidden_grace_days} days after processing.`,
    p.quota_bytes === null ? "No storage quota." : `Storage quota ${gb(p.quota_bytes)}: past it, originals go oldest first.`,
  ].join("\n");
}

export const retention: Command = {
  name: "retention",
  summary: "show or change how long originals and hidden photos are kept, and the storage quota",
  help: `Usage:
  lifelog-devices retention [--originals-days N] [--hidden-grace-days N] [--quota <size>|none]

Without flags, shows the policy. Defaults: originals 30 days, hidden photos 7 days, no quota.
Every deletion goes through the deletion queue, so storage and the database stay consistent.

Examples:
  lifelog-devices retention
  lifelog-devices retention --originals-days 14 --quota 5GB
  lifelog-devices retention --quota none --json

Flags:
  --originals-days N     keep originals N days (1..3650)
  --hidden-grace-days N  delete hidden photos N days after processing (0..3650)
  --quota <size>         e.g. 5GB; none removes the quota
${DEVICE_API_HELP}`,
  options: {
    ...DEVICE_API_OPTIONS,
    "originals-days": { type: "string" },
    "hidden-grace-days": { type: "string" },
    quota: { type: "string" },
  },
  async run(values, positionals, { out, env }) {
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
    const change: Partial<RetentionPolicy> = {};
    if (values["originals-days"] !== undefined) change.originals_days = wholeDays("--originals-days", String(values["originals-days"]), 1);
    if (values["hidden-grace-days"] !== undefined) change.hidden_grace_days = wholeDays("--hidden-grace-days", String(values["hidden-grace-days"]), 0);
    if (values.quota !== undefined) change.quota_bytes = parseQuota(String(values.quota));
    const changing = Object.keys(change).length > 0;
    const policy = await (await photosClient(values, env)).retention(changing ? change : undefined);
    if (changing) out.line("Retention policy changed.");
    out.line(describePolicy(policy));
    out.result(policy);
  },
};
