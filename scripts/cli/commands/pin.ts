import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS } from "../devices-api.ts";
import { usageError } from "../errors.ts";
import { photosClient } from "../photos-api.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const pin: Command = {
  name: "pin",
  summary: "pin a photo (never hidden, never deleted by retention), or unpin it",
  help: `Usage:
  lifelog-devices pin <photo id> [--off]

<photo id> is the full ID \`lifelog-devices photos\` shows. A pinned photo is shown even when
it is dark, blurry or a near-duplicate, and retention keeps it.

Examples:
  lifelog-devices pin 2b1f0c9e-8d3a-4f6b-9e2d-6a1c3b5d7e9f
  lifelog-devices pin 2b1f0c9e-8d3a-4f6b-9e2d-6a1c3b5d7e9f --off

Flags:
  --off              unpin
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS, off: { type: "boolean" } },
  async run(values, positionals, { out, env }) {
    if (positionals.length !== 1) throw usageError("pin needs one photo id (see `lifelog-devices photos`)");
    if (!UUID.test(positionals[0])) throw usageError(`not a photo id: ${positionals[0]} (the full ID \`photos\` shows)`);
    const pinned = values.off !== true;
    const photo = await (await photosClient(values, env)).pin(positionals[0].toLowerCase(), pinned);
    out.line(`${pinned ? "Pinned" : "Unpinned"} the photo of ${photo.captured_at}; it is ${photo.hidden ? "hidden" : "shown"}.`);
    out.result(photo);
  },
};
