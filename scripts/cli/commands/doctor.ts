import { apiError } from "../api.ts";
import type { Command } from "../command.ts";
import { loadConfigFile } from "../config-file.ts";
import { configVersion } from "../../firmware/render-sketch.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { describePairing, pairingStatus } from "../pairing-record.ts";
import { probeActivate } from "../probe.ts";
import type { SketchConfig } from "../../firmware/sketch-config.ts";

type Status = "ok" | "warn" | "fail";
export interface Check {
  check: string;
  status: Status;
  message: string;
}

const MARK: Record<Status, string> = { ok: "✓", warn: "!", fail: "✗" };
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

export const doctor: Command = {
  name: "doctor",
  summary: "check a config and the API it points at, and explain what is wrong",
  help: `Usage:
  lifelog-devices doctor <config> [--api-base <url>]

Checks, without changing anything on the server:
  - the config is valid (every mistake with its line and column)
  - the API answers at <api_base_url>/devices/activate (probed with an empty request,
    which never uses up a pairing code or counts as a wrong guess)
  - for https, that the server's certificate is signed by root_ca_pem, as the camera checks it
  - the pairing code has not expired (from <config>.pairing.json, written by \`pair\`)
  - things the camera cannot do: reach 127.0.0.1 (that is the camera itself), join without Wi-Fi

Flags:
  --api-base <url>   probe this URL instead of the config's api_base_url (e.g. from this computer)`,
  options: { "api-base": { type: "string" } },
  async run(values, positionals, { out }) {
    if (positionals.length !== 1) throw usageError("doctor needs exactly one config file");
    const configPath = positionals[0];
    const { config } = await loadConfigFile(configPath);
    const apiBase = ((values["api-base"] as string | undefined) ?? config.api_base_url).replace(/\/+$/, "");

    const checks: Check[] = [{ check: "config", status: "ok", message: `${configPath} is valid (config version ${configVersion(config)})` }];
    checks.push(...configChecks(config));
    const api = await out.step(`Asking ${apiBase}`, () => apiCheck(apiBase, config));
    checks.push(...api.checks);
    checks.push(await pairingCheck(configPath, config));

    out.line(`Checked ${configPath} against ${apiBase}:`);
    for (const c of checks) out.line(`  ${MARK[c.status]} ${c.check}: ${c.message}`);
    const failures = checks.filter((c) => c.status === "fail").length;
    out.result({ ok: failures === 0, checks });
    if (failures > 0) {
      const code = api.unreachable ? ExitCode.unreachable : ExitCode.failure;
      throw new CliError(`doctor found ${failures} ${failures === 1 ? "problem" : "problems"} (marked ✗ above)`, code);
    }
    out.line("Everything the doctor can check from here looks right.");
  },
};

function configChecks(config: SketchConfig): Check[] {
  const checks: Check[] = [];
  const host = new URL(config.api_base_url).hostname;
  if (LOOPBACK.test(host)) {
    checks.push({
      check: "api address",
      status: "warn",
      message: `api_base_url uses ${host}, which on the camera means the camera itself; use this computer's address on your Wi-Fi (e.g. http://192.168.1.20:54321/functions/v1)`,
    });
  }
  if (config.api_base_url.startsWith("http://")) {
    checks.push({ check: "encryption", status: "warn", message: "the API is plain http: photos travel unencrypted (fine for a local test stack only)" });
  } else if (config.dev_insecure_tls) {
    checks.push({ check: "encryption", status: "warn", message: "dev_insecure_tls is on: the camera will not check the server's certificate" });
  }
  if (config.wifi_networks.length === 0) {
    checks.push({ check: "wifi", status: "warn", message: "no Wi-Fi networks: the camera will open its setup portal (Wi-Fi \"Lifelog-Setup-…\") to ask for one" });
  } else {
    checks.push({ check: "wifi", status: "ok", message: `${config.wifi_networks.length} network(s): ${config.wifi_networks.map((n) => n.ssid).join(", ")} (2.4 GHz only)` });
  }
  return checks;
}

async function apiCheck(apiBase: string, config: SketchConfig): Promise<{ checks: Check[]; unreachable: boolean }> {
  const https = apiBase.startsWith("https://");
  const probe = await probeActivate(apiBase, { ca: config.root_ca_pem, insecure: config.dev_insecure_tls });
  const origin = new URL(apiBase).origin;
  if (probe.kind === "unreachable") {
    return { unreachable: true, checks: [{ check: "api", status: "fail", message: `cannot reach ${origin}: ${probe.reason}. Is the address right and the server running?` }] };
  }
  if (probe.kind === "tls") {
    return {
      unreachable: false,
      checks: [{ check: "tls", status: "fail", message: `${origin} answered, but ${probe.reason}; the camera would refuse to connect. Put the server's root CA certificate in root_ca_pem` }],
    };
  }
  const checks: Check[] = [];
  if (https && !config.dev_insecure_tls) {
    checks.push({ check: "tls", status: "ok", message: "the server's certificate is signed by the root CA in the config" });
  }
  const error = apiError(probe.body);
  if (probe.status === 400 && error?.code === "invalid_request") {
    checks.push({ check: "api", status: "ok", message: `the devices API answers at ${apiBase}/devices/activate` });
  } else if (probe.status === 429) {
    checks.push({
      check: "api",
      status: "warn",
      message: `the API answers but refuses activations for now (too many wrong pairing codes recently)${probe.retryAfter ? `; wait ${probe.retryAfter} seconds` : ""}`,
    });
  } else if (probe.status === 404) {
    checks.push({ check: "api", status: "fail", message: `${apiBase}/devices/activate does not exist: check api_base_url (it normally ends in /functions/v1)` });
  } else {
    const detail = error ? `${error.code}: ${error.message}` : typeof probe.body === "string" ? probe.body.slice(0, 80) : "";
    checks.push({ check: "api", status: "fail", message: `unexpected answer from ${apiBase}/devices/activate: HTTP ${probe.status}${detail ? ` (${detail})` : ""}` });
  }
  return { checks, unreachable: false };
}

async function pairingCheck(configPath: string, config: SketchConfig): Promise<Check> {
  const status = await pairingStatus(configPath, config.pairing_code);
  switch (status.state) {
    case "none":
      return { check: "pairing code", status: "warn", message: "none in the config: type one into the camera's setup portal, or run `lifelog-devices pair --write-config`" };
    case "unknown":
      return { check: "pairing code", status: "warn", message: "present, but not written by `pair --write-config`, so its expiry is unknown" };
    case "valid":
      return { check: "pairing code", status: "ok", message: describePairing(status) };
    case "expired":
      return { check: "pairing code", status: "fail", message: describePairing(status) };
  }
}
