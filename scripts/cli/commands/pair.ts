
import QRCode from "qrcode";

import { apiBaseFor, pairDevice } from "../api.ts";
import type { Command } from "../command.ts";
import { existingConfigText, loadConfigFile, updateConfigFile } from "../config-file.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { describePairing, pairingStatus, savePairingRecord } from "../pairing-record.ts";
import { fetchRootCa, rootBundle, type RootCa } from "../root-ca.ts";
import { activeSession } from "../session.ts";
import { originOf } from "./ca.ts";

const NEW_CONFIG_HEADER = [
  "# Lifelog camera settings, written by `lifelog-devices pair`. Add Wi-Fi networks here",
  "# (wifi_networks: [{ssid: home, password: ...}]) or type one into the camera's setup portal.",
  "# Keep this file private: it holds the pairing code (and any Wi-Fi passwords).",
].join("\n");

export const pair: Command = {
  name: "pair",
  summary: "create a device and show its one-time pairing code (text and QR)",
  help: `Usage:
  lifelog-devices pair [--name <camera name>] [--write-config <config file>]
  lifelog-devices pair --status <config file>

Asks your project for a new device and its pairing code (valid for 10 minutes, single use).
The camera exchanges the code for its own token the first time it goes online.

Flags:
  --name <name>             a name for the camera, e.g. "kitchen"
  --write-config <file>     put the code into this config (created if missing, with api_base_url
                            and, for an https API, its root certificate as with \`ca\`) and
                            remember the code's expiry in <file>.pairing.json
  --status                  say whether the pairing code in the given config is still valid
  --api-base <url>          the devices API (default: <SUPABASE_URL>/functions/v1)
  --token <jwt>             use this access token instead of the saved session
  --url <SUPABASE_URL>      with --token: the project URL (or SUPABASE_URL)`,
  options: {
    name: { type: "string" },
    "write-config": { type: "string" },
    status: { type: "boolean" },
    "api-base": { type: "string" },
    token: { type: "string" },
    url: { type: "string" },
  },
  async run(values, positionals, ctx) {
    const { out, env } = ctx;
    if (values.status) {
      if (positionals.length !== 1) throw usageError("pair --status needs one config file");
      return showStatus(positionals[0], ctx);
    }
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);

    let accessToken: string;
    let supabaseUrl: string | undefined = values.url as string | undefined;
    if (values.token !== undefined) {
      accessToken = String(values.token);
      supabaseUrl ??= env.SUPABASE_URL;
    } else {
      const session = await activeSession(env);
      accessToken = session.accessToken;
      supabaseUrl ??= session.supabaseUrl;
    }
    const apiBase = ((values["api-base"] as string | undefined) ?? (supabaseUrl ? apiBaseFor(supabaseUrl) : undefined))?.replace(/\/+$/, "");
    if (!apiBase) throw usageError("--api-base or --url is required with --token");

    const name = values.name as string | undefined;
    const paired = await out.step("Requesting a pairing code", () => pairDevice(apiBase, accessToken, name));
    const minutes = Math.max(0, Math.round((new Date(paired.expires_at).getTime() - Date.now()) / 60_000));

    const configPath = values["write-config"] as string | undefined;
    let configAction: "created" | "updated" | undefined;
    let rootCa: RootCa | undefined;
    let rootCaMissing = false;
    if (configPath) {
      // A new config gets the API URL too (and for https its root certificate, best effort);
      // in an existing one only the code changes.
      const existing = await existingConfigText(configPath).catch((err: Error) => {
        throw new CliError(`cannot read ${configPath}: ${err.message}`);
      });
      const exists = existing !== undefined;
      if (!exists && apiBase.startsWith("https://")) {
        rootCa = await out.step(`Fetching the root certificate of ${originOf(apiBase)}`, () => fetchRootCa(apiBase)).catch(() => undefined);
        rootCaMissing = rootCa === undefined;
      }
      const settings = exists
        ? { pairing_code: paired.pairing_code }
        : { api_base_url: apiBase, pairing_code: paired.pairing_code, ...(rootCa ? { root_ca_pem: rootBundle(rootCa) } : {}) };
      configAction = await updateConfigFile(configPath, settings, NEW_CONFIG_HEADER).catch((err) => {
        throw err instanceof CliError ? err : new CliError(`cannot write ${configPath}: ${(err as Error).message}`);
      });
      await savePairingRecord(configPath, paired, apiBase);
    }

    out.line(`Paired a new camera${name ? ` "${name}"` : ""} (device ${paired.device_id}).`);
    out.line(`Pairing code: ${paired.pairing_code}`);
    out.line(`It expires at ${paired.expires_at} (in ${minutes} minutes): the camera must go online before then.`);
    out.line("");
    out.line(await QRCode.toString(paired.pairing_code, { type: "terminal", small: true }));
    if (configPath) {
      out.line(`${configAction === "created" ? "Created" : "Updated"} ${configPath} with the pairing code.`);
      if (rootCa) out.line(`Added the root certificate of ${originOf(apiBase)} as root_ca_pem: ${rootCa.subject}.`);
      if (rootCaMissing) out.warn(`could not fetch the API's root certificate; run \`lifelog-devices ca ${configPath}\` to add root_ca_pem (it says why)`);
      out.line(`Next: lifelog-devices render ${configPath} --out build`);
    } else {
      out.line("Type the code into the camera's setup portal, or put it in a config with --write-config.");
    }
    out.result({ device_id: paired.device_id, pairing_code: paired.pairing_code, expires_at: paired.expires_at });
  },
};

async function showStatus(configPath: string, { out }: Parameters<Command["run"]>[2]): Promise<void> {
  const { config } = await loadConfigFile(configPath);
  const status = await pairingStatus(configPath, config.pairing_code);
  const result = {
    state: status.state,
    device_id: "record" in status ? status.record.device_id : null,
    expires_at: "record" in status ? status.record.expires_at : null,
  };
  out.result(result);
  switch (status.state) {
    case "none":
      out.line(`${configPath} has no pairing code: the camera's setup portal will ask for one.`);
      return;
    case "unknown":
      out.line(`${configPath} has a pairing code this tool did not write, so its expiry is unknown.`);
      return;
    case "valid":
      out.line(`The pairing code is ${describePairing(status)}.`);
      return;
    case "expired":
      throw new CliError(describePairing(status), ExitCode.failure);
  }
}
