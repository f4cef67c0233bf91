import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS, describeDevice, devicesClient, findDevice } from "../devices-api.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";

export const revoke: Command = {
  name: "revoke",
  summary: "stop a camera for good: its token is refused from its next request on",
  help: `Usage:
  lifelog-devices revoke <device> --yes

Permanent: the camera keeps the photos it has not sent yet on its card, but it can only
upload again after being paired anew. Revoking twice is harmless.

Examples:
  lifelog-devices revoke kitchen --yes

Flags:
  --yes              confirm (required)
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS, yes: { type: "boolean" } },
  async run(values, positionals, { out, env }) {
    if (positionals.length !== 1) throw usageError("revoke needs one device, e.g. revoke kitchen --yes");
    const client = await devicesClient(values, env);
    const device = findDevice(await client.list(), positionals[0]);
    if (!values.yes) {
      throw new CliError(`revoking ${describeDevice(device)} is permanent (it must be paired again); repeat with --yes`, ExitCode.usage);
    }
    const revoked = await client.change(device.id, "revoke");
    out.line(device.revoked_at
      ? `${describeDevice(device)} was already revoked (at ${device.revoked_at}).`
      : `Revoked ${describeDevice(device)}: its next request will be refused.`);
    out.result(revoked);
  },
};
