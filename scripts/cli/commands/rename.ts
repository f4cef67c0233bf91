import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS, describeDevice, devicesClient, findDevice } from "../devices-api.ts";
import { usageError } from "../errors.ts";

export const rename: Command = {
  name: "rename",
  summary: "give a camera a new name",
  help: `Usage:
  lifelog-devices rename <device> <new name>

<device> is the camera's id, the start of its id, or its current name.

Examples:
  lifelog-devices rename kitchen "front door"
  lifelog-devices rename 3f2a9c1e hallway

Flags:
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS },
  async run(values, positionals, { out, env }) {
    if (positionals.length !== 2) throw usageError("rename needs the device and the new name, e.g. rename kitchen hallway");
    const name = positionals[1].trim();
    if (name.length < 1 || name.length > 64) throw usageError("the new name must be 1 to 64 characters");
    const client = await devicesClient(values, env);
    const device = findDevice(await client.list(), positionals[0]);
    const renamed = await client.change(device.id, "rename", { name });
    out.line(`Renamed ${describeDevice(device)} to "${renamed.name}".`);
    out.result(renamed);
  },
};
