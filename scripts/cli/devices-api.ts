// The owner's device routes (GET /devices, POST /devices/<id>/rename|revoke|settings) and
// finding a device by id, id prefix or name. Refusals become CliErrors that say what to do.
import { showable } from "../../functions/_shared/printable.ts";
import { apiBaseFor, apiError, type HttpResult, requestJson } from "./api.ts";
import type { Values } from "./command.ts";
import { CliError, ExitCode, usageError } from "./errors.ts";
import { activeSession } from "./session.ts";

export interface DeviceView {
  id: string;
  name: string | null;
  created_at: string;
  activated_at: string | null;
  last_seen_at: string | null;
  revoked_at: string | null;
  firmware_version: string | null;
  settings: { paused: boolean; capture_interval_s: number | null; updated_at: string | null };
  status: {
    reported_at: string;
    queue_depth: number;
    free_bytes: number;
    dropped: number;
    quarantined: number;
    last_error: string | null;
    clock_synced: boolean;
    /** the camera's last report on an update: a refusal or rollback has its reason in error */
    ota: { state: string | null; version: string | null; error: string | null };
  } | null;
  items: { today: number; total: number };
}

export const DEVICE_API_OPTIONS = { "api-base": { type: "string" } } as const;
export const DEVICE_API_HELP = "  --api-base <url>   the devices API (default: <your project URL>/functions/v1)";

export interface DevicesClient {
  list(): Promise<DeviceView[]>;
  change(id: string, action: "rename" | "revoke" | "settings", body?: unknown): Promise<DeviceView>;
}

export function refusal(result: HttpResult, what: string): CliError {
  const error = apiError(result.body);
  if (result.status === 401) {
    return new CliError(`the API refused your session (${error?.code ?? "401"}); run \`lifelog-devices login\` again`, ExitCode.auth);
  }
  if (result.status === 404 && error?.code === "device_not_found") {
    return new CliError("that device is not in your account (it may have been removed)", ExitCode.failure);
  }
  if (result.status === 404 && !error) {
    return new CliError("the devices API is not there; is the devices function deployed?", ExitCode.failure);
  }
  if (result.status === 429) {
    const retry = result.headers.get("retry-after");
    return new CliError(`too many requests${retry ? `; try again in ${retry} seconds` : "; try again later"}`, ExitCode.failure);
  }
  if (error) return new CliError(`${what} refused: ${error.message} (${error.code})`, ExitCode.failure);
  return new CliError(`${what} failed: HTTP ${result.status}`, ExitCode.failure);
}

/** The API base and the saved (and if need be renewed) session's authorization header. */
export async function signedInApi(values: Values, env: NodeJS.ProcessEnv): Promise<{ apiBase: string; auth: Record<string, string> }> {
  const session = await activeSession(env);
  const apiBase = ((values["api-base"] as string | undefined) ?? apiBaseFor(session.supabaseUrl)).replace(/\/+$/, "");
  return { apiBase, auth: { authorization: `Bearer ${session.accessToken}` } };
}

/** A client signed in with the saved (and if need be renewed) session. */
export async function devicesClient(values: Values, env: NodeJS.ProcessEnv): Promise<DevicesClient> {
  const { apiBase, auth } = await signedInApi(values, env);
  return {
    async list() {
      const r = await requestJson("GET", `${apiBase}/devices`, undefined, auth);
      if (r.status !== 200) throw refusal(r, "listing devices");
      return (r.body as { devices: DeviceView[] }).devices;
    },
    async change(id, action, body = {}) {
      const r = await requestJson("POST", `${apiBase}/devices/${encodeURIComponent(id)}/${action}`, body, auth);
      if (r.status !== 200) throw refusal(r, `${action === "settings" ? "changing the settings" : action === "rename" ? "renaming" : "revoking"}`);
      return (r.body as { device: DeviceView }).device;
    },
  };
}

/** The device `ref` names: its id, a unique prefix of it (4+ characters), or its name. */
export function findDevice(devices: DeviceView[], ref: string): DeviceView {
  const wanted = ref.trim().toLowerCase();
  if (!wanted) throw usageError("name the device: its id, the start of its id, or its name (see `lifelog-devices devices`)");
  const byId = devices.find((d) => d.id === wanted);
  if (byId) return byId;
  const byName = devices.filter((d) => (d.name ?? "").toLowerCase() === wanted);
  const byPrefix = wanted.length >= 4 ? devices.filter((d) => d.id.startsWith(wanted)) : [];
  const matches = [...new Set([...byName, ...byPrefix])];
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new CliError(`no device "${ref}" in your account; \`lifelog-devices devices\` lists them`, ExitCode.failure);
  }
  throw new CliError(`"${ref}" matches ${matches.length} devices; use more of the id`, ExitCode.failure,
    matches.map((d) => showable(`${d.id}  ${d.name ?? "(no name)"}`)));
}

export function describeDevice(d: DeviceView): string {
  return showable(`${d.name ? `"${d.name}"` : "the unnamed device"} (${d.id.slice(0, 8)})`);
}

export function deviceState(d: DeviceView): string {
  if (d.revoked_at) return "revoked";
  if (!d.activated_at) return "not activated";
  return d.settings.paused ? "paused" : "active";
}
