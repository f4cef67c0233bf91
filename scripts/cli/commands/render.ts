import { relative } from "node:path";

import { CORE_MODES, type CoreMode, renderSketch } from "../../firmware/render-sketch.ts";
import type { Command } from "../command.ts";
import { loadConfigFile } from "../config-file.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { firmwareRoot } from "../package-root.ts";
import { describePairing, minutesLeft, pairingStatus } from "../pairing-record.ts";
import { ensurePortalCredentials, showPortalCredentials } from "../portal-credentials.ts";
import { releasePublicKey } from "../release-public-key.ts";

export const render: Command = {
  name: "render",
  summary: "validate a device config and write the Arduino sketch folder",
  help: `Usage:
  lifelog-devices render <config.yaml|config.json> [--out <dir>] [--core bundled|library]
                         [--release-public-key <hex> | --key <file>]

Checks the config and writes <dir>/lifelog_camera/ (default dir: .): the sketch, the firmware
core and lifelog_config.h, the settings the camera copies into NVS on its first boot (a changed
config gets a new version and is copied again). The folder holds your Wi-Fi passwords and the
pairing code: keep it private. It never holds a device token.

The camera takes updates over the air only when the sketch has the public half of your release
key: from --release-public-key, else release_public_key in the config, else the key file that
\`keygen\` wrote (only its public key goes into the sketch). Without any, it renders a camera
that never updates.

Refuses a config whose pairing code has expired (as recorded by \`pair --write-config\`).

Flags:
  --out <dir>                   where to write the sketch folder (default: the current folder)
  --core bundled                the firmware core is copied into the folder's src/ (default: builds as is)
  --core library                the folder holds no core: it includes the installed LifelogCore library
                                (npm run firmware:library -- lifelog-core.zip, then
                                arduino-cli lib install --zip-path lifelog-core.zip; see docs/firmware.md)
  --release-public-key <hex>    the release public key (64 hex digits, as keygen prints it)
  --key <file>                  the release key file (default: release-key.pem in the CLI's config folder)`,
  options: { out: { type: "string" }, core: { type: "string" }, "release-public-key": { type: "string" }, key: { type: "string" } },
  async run(values, positionals, { out, env }) {
    if (positionals.length !== 1) throw usageError("render needs exactly one config file");
    const core = (values.core as string | undefined) ?? "bundled";
    if (!(CORE_MODES as readonly string[]).includes(core)) throw usageError(`--core must be one of ${CORE_MODES.join(", ")}, not ${JSON.stringify(core)}`);
    const configPath = positionals[0];
    const loaded = await loadConfigFile(configPath);
    const { config, generated } = await ensurePortalCredentials(configPath, loaded.config);
    const pairing = await pairingStatus(configPath, config.pairing_code);
    if (pairing.state === "expired") {
      throw new CliError(describePairing(pairing), ExitCode.failure, [
        `or remove pairing_code from ${configPath} and type a fresh code into the camera's setup portal`,
      ]);
    }
    const outDir = (values.out as string | undefined) ?? ".";
    const releaseKey = await releasePublicKey(values, config, env);
    const withKey = releaseKey ? { ...config, release_public_key: releaseKey.publicKey } : config;
    const result = await out.step("Rendering the sketch", () => renderSketch(withKey, outDir, { firmwareRoot: firmwareRoot(), core: core as CoreMode }));
    const shownDir = relative(process.cwd(), result.sketchDir) || ".";
    out.line(`Rendered ${result.files.length} files into ${shownDir} (config version ${result.configVersion}).`);
    if (core === "library") out.line("It includes the core from the installed LifelogCore library: install that first (docs/firmware.md).");
    out.line(releaseKey
      ? `Updates over the air: releases signed with key ${releaseKey.keyId} (${releaseKey.source}).`
      : "No release key (make one with `lifelog-devices keygen`): this camera will not take updates over the air.");
    await showPortalCredentials(out, config, generated);
    if (pairing.state === "valid") {
      out.line(`The pairing code expires in ${minutesLeft(pairing)} minutes: flash the camera and let it go online before then.`);
    }
    out.line(`Next: lifelog-devices flash ${shownDir} --port <serial port, e.g. /dev/ttyACM0>`);
    out.result({
      sketch_dir: result.sketchDir,
      config_version: result.configVersion,
      files: result.files.length,
      portal_ssid: config.portal_ssid ?? null,
      release_key_id: releaseKey?.keyId ?? null,
      pairing_code_expires_at: "record" in pairing ? pairing.record.expires_at : null,
    });
  },
};
