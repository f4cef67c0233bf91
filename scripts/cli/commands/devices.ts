import { showable } from "../../../functions/_shared/printable.ts";
import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS, type DeviceView, deviceState, devicesClient } from "../devices-api.ts";
import { usageError } from "../errors.ts";

function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** Columns padded to their widest cell; what a device or client wrote cannot steer the terminal. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(showable));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

export function deviceRows(devices: DeviceView[]): string[][] {
  return [
    ["NAME", "ID", "STATE", "LAST SEEN", "PHOTOS TODAY", "TOTAL", "QUEUED", "INTERVAL", "FIRMWARE"],
    ...devices.map((d) => [
      d.name ?? "(no name)",
      d.id.slice(0, 8),
      deviceState(d),
      ago(d.last_seen_at),
      String(d.items.today),
      String(d.items.total),
      d.status ? String(d.status.queue_depth) : "-",
      d.settings.capture_interval_s ? `${d.settings.capture_interval_s}s` : "built-in",
      d.firmware_version ?? "-",
    ]),
  ];
}

export const devices: Command = {
  name: "devices",
  summary: "list your cameras: state, last seen, photos today and in total, queue",
  help: `Usage:
  lifelog-devices devices [--json]

Examples:
  lifelog-devices devices
  lifelog-devices devices --json | jq '.[] | {name, items}'

Photos "today" count the current UTC day. QUEUED is what the camera last reported waiting on
its card. --json prints every field the API returns (never any token).

Flags:
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS },
  async run(values, positionals, { out, env }) {
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
    const client = await devicesClient(values, env);
    const list = await client.list();
    out.result(list);
    if (list.length === 0) {
      out.line("You have no cameras yet. Pair one: lifelog-devices pair --name <name> --write-config camera.yaml");
      return;
    }
    out.line(table(deviceRows(list)));
    for (const d of list) {
      if (d.status?.last_error && !d.revoked_at) out.line(showable(`${d.name ?? d.id.slice(0, 8)}: last error: ${d.status.last_error}`));
    }
  },
};
