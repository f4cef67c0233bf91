// pause, resume and settings: the owner's remote settings, which the camera reads at its
// next heartbeat (it calls about once a minute).
import type { Command, Values } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS, describeDevice, type DeviceView, devicesClient, findDevice } from "../devices-api.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";

const TAKES_EFFECT = "The camera takes it up at its next heartbeat (about once a minute).";

function describeSettings(d: DeviceView): string {
  const interval = d.settings.capture_interval_s ? `every ${d.settings.capture_interval_s} s` : "at its built-in interval";
  return `${d.settings.paused ? "paused (no photos; its privacy light is on)" : "capturing"}, ${interval}`;
}

async function change(values: Values, env: NodeJS.ProcessEnv, ref: string, body: Record<string, unknown>) {
  const client = await devicesClient(values, env);
  const device = findDevice(await client.list(), ref);
  if (device.revoked_at) throw new CliError(`${describeDevice(device)} is revoked; its settings can no longer change`, ExitCode.failure);
  return { before: device, after: await client.change(device.id, "settings", body) };
}

function pauseCommand(name: "pause" | "resume"): Command {
  const paused = name === "pause";
  return {
    name,
    summary: paused ? "privacy pause: the camera stops taking photos until resumed" : "end a privacy pause",
    help: `Usage:
  lifelog-devices ${name} <device>

${paused ? "While paused the camera takes no photos and shows its privacy light; photos already\non its card still upload." : "The camera starts taking photos again."} ${TAKES_EFFECT}

Examples:
  lifelog-devices ${name} kitchen

Flags:
${DEVICE_API_HELP}`,
    options: { ...DEVICE_API_OPTIONS },
    async run(values, positionals, { out, env }) {
      if (positionals.length !== 1) throw usageError(`${name} needs one device, e.g. ${name} kitchen`);
      const { before, after } = await change(values, env, positionals[0], { paused });
      out.line(before.settings.paused === paused
        ? `${describeDevice(after)} was already ${paused ? "paused" : "capturing"}.`
        : `${paused ? "Paused" : "Resumed"} ${describeDevice(after)}. ${TAKES_EFFECT}`);
      out.result(after);
    },
  };
}

export const pause = pauseCommand("pause");
export const resume = pauseCommand("resume");

export const settings: Command = {
  name: "settings",
  summary: "show or change a camera's remote settings (capture interval, pause)",
  help: `Usage:
  lifelog-devices settings <device>                       show them
  lifelog-devices settings <device> --interval <seconds>  photo every 5 to 3600 seconds
  lifelog-devices settings <device> --interval built-in   back to the camera's own interval
  lifelog-devices settings <device> --pause | --resume

Examples:
  lifelog-devices settings kitchen --interval 60
  lifelog-devices settings kitchen --interval built-in --resume

${TAKES_EFFECT}

Flags:
  --interval <s>     seconds between photos (5-3600), or "built-in"
  --pause, --resume  as the pause and resume commands
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS, interval: { type: "string" }, pause: { type: "boolean" }, resume: { type: "boolean" } },
  async run(values, positionals, { out, env }) {
    if (positionals.length !== 1) throw usageError("settings needs one device, e.g. settings kitchen --interval 60");
    if (values.pause && values.resume) throw usageError("give --pause or --resume, not both");
    const body: Record<string, unknown> = {};
    if (values.pause || values.resume) body.paused = Boolean(values.pause);
    if (values.interval !== undefined) {
      const text = String(values.interval).trim();
      if (text === "built-in") body.capture_interval_s = null;
      else if (/^\d+$/.test(text) && Number(text) >= 5 && Number(text) <= 3600) body.capture_interval_s = Number(text);
      else throw usageError(`--interval must be a whole number of seconds from 5 to 3600, or "built-in"; got "${text}"`);
    }
    if (Object.keys(body).length === 0) {
      const client = await devicesClient(values, env);
      const device = findDevice(await client.list(), positionals[0]);
      out.line(`${describeDevice(device)}: ${describeSettings(device)}.`);
      out.result(device.settings);
      return;
    }
    const { after } = await change(values, env, positionals[0], body);
    out.line(`${describeDevice(after)} is now ${describeSettings(after)}. ${TAKES_EFFECT}`);
    out.result(after);
  },
};
