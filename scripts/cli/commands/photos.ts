import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS, devicesClient, findDevice } from "../devices-api.ts";
import { usageError } from "../errors.ts";
import { type PhotoView, photosClient } from "../photos-api.ts";
import { table } from "./devices.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** --day (a UTC day, default today) or --from/--to. */
export function photoRange(values: { day?: string; from?: string; to?: string }, now = new Date()): { from: string; to: string } {
  if (values.from || values.to) {
    if (values.day) throw usageError("give --day or --from/--to, not both");
    if (!values.from || !values.to) throw usageError("--from and --to go together");
    for (const v of [values.from, values.to]) {
      if (Number.isNaN(Date.parse(v))) throw usageError(`not a date and time: ${v} (e.g. 2026-12-01T08:00:00Z)`);
    }
    return { from: new Date(values.from).toISOString(), to: new Date(values.to).toISOString() };
  }
  const day = values.day ?? now.toISOString().slice(0, 10);
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw usageError(`--day wants YYYY-MM-DD, not ${day}`);
  const from = new Date(`${day}T00:00:00Z`);
  return { from: from.toISOString(), to: new Date(from.getTime() + 86_400_000).toISOString() };
}

function flagsOf(p: PhotoView): string {
  const f = [p.flags.dark && "dark", p.flags.blurry && "blurry", p.flags.duplicate && "duplicate"].filter(Boolean).join(",");
  return f || "-";
}

export function photoRows(photos: PhotoView[]): string[][] {
  return [
    ["CAPTURED (UTC)", "ID", "STATUS", "FLAGS", "SHOWN", "PINNED", "ORIGINAL", "MOMENT"],
    ...photos.map((p) => [
      p.captured_at.replace("T", " ").slice(0, 19),
      p.item_id,
      p.status,
      flagsOf(p),
      p.hidden ? "hidden" : "shown",
      p.pinned ? "pinned" : "-",
      p.original_kept ? "kept" : "deleted",
      p.moment_id ? p.moment_id.slice(0, 8) : "-",
    ]),
  ];
}

export const photos: Command = {
  name: "photos",
  summary: "list photos of a day (or a range): flags, moments, pins, whether the original is kept",
  help: `Usage:
  lifelog-devices photos [<device>] [--day YYYY-MM-DD | --from <time> --to <time>] [--all] [--json]

Without <device>, the photos of all your cameras. --day is a UTC day (default today);
--from/--to span at most 31 days. Hidden photos (dark, blurry or a near-duplicate, and not
pinned) are left out unless --all. --json prints every field, with signed thumbnail and
preview URLs that work for a few minutes.

Examples:
  lifelog-devices photos --day 2026-12-01
  lifelog-devices photos kitchen --all --json | jq '.[] | select(.flags.dark)'

Flags:
  --day <date>       a UTC day
  --from, --to       a time range (ISO 8601)
  --all              hidden photos too
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS, day: { type: "string" }, from: { type: "string" }, to: { type: "string" }, all: { type: "boolean" } },
  async run(values, positionals, { out, env }) {
    if (positionals.length > 1) throw usageError(`unexpected argument: ${positionals[1]}`);
    const range = photoRange(values as { day?: string; from?: string; to?: string });
    const deviceId = positionals[0] ? findDevice(await (await devicesClient(values, env)).list(), positionals[0]).id : undefined;
    const list = await (await photosClient(values, env)).list({ ...range, deviceId, includeHidden: values.all === true });
    out.result(list);
    if (list.length === 0) {
      out.line(`No photos from ${range.from} to ${range.to}${values.all ? "" : " (hidden ones left out; --all shows them)"}.`);
      return;
    }
    out.line(table(photoRows(list)));
    const hidden = list.filter((p) => p.hidden).length;
    out.line(`${list.length} photo(s), ${new Set(list.map((p) => p.moment_id).filter(Boolean)).size} moment(s)` +
      (values.all ? `, ${hidden} hidden` : ""));
  },
};
