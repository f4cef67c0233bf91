import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";

import { configVersion } from "../../firmware/render-sketch.ts";
import type { Command, Values } from "../command.ts";
import { loadConfigFile } from "../config-file.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { maskSecret, type Output } from "../output.ts";
import { NvsImageError, type NvsEntry } from "../nvs/format.ts";
import { readNvsImage } from "../nvs/reader.ts";
import { validatePartitionSize } from "../nvs/validate.ts";
import { writeNvsImage } from "../nvs/writer.ts";
import { isSecretKey, NvsKey, NVS_OFFSET, NVS_SIZE, nvsEntriesFor } from "../nvs-settings.ts";
import { ensurePortalCredentials, showPortalCredentials } from "../portal-credentials.ts";

export const nvs: Command = {
  name: "nvs",
  summary: "write a config as an NVS partition image (one firmware, per-camera settings)",
  help: `Usage:
  lifelog-devices nvs <config> [--out <image.bin>] [--firmware <sketch dir> | --config-version <hex>]
  lifelog-devices nvs --decode <image.bin> [--show-secrets]

Writes the config's settings as an ESP-IDF NVS partition image (format v2, namespace "lifelog",
the keys the firmware reads). Flash it alone at 0x9000 (default 8 MB partition table, 0x5000 bytes):
  lifelog-devices flash --nvs-only <image.bin> --port <port>
The root CA and dev_insecure_tls are compiled into the firmware and are not in the image.

The image carries the config version of the firmware the camera runs: with another version the
firmware would replace these settings with its compiled-in ones on boot. Name that firmware with
--firmware (the rendered sketch folder) or --config-version; without either, the image matches
firmware rendered from this same config.

Flags:
  --out <file>              image path (default: <config name>.nvs.bin next to the config)
  --firmware <dir>          rendered sketch folder whose LIFELOG_CONFIG_VERSION the image takes
  --config-version <hex>    that version directly (8 hex digits, as printed by render)
  --size <bytes>            partition size (default 0x5000)
  --decode <image>          print the entries of an image instead; secrets are masked
  --show-secrets            with --decode: show Wi-Fi passwords and the pairing code`,
  options: {
    out: { type: "string" },
    firmware: { type: "string" },
    "config-version": { type: "string" },
    size: { type: "string" },
    decode: { type: "string" },
    "show-secrets": { type: "boolean" },
  },
  async run(values, positionals, { out }) {
    if (values.decode !== undefined) {
      if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
      return decode(String(values.decode), Boolean(values["show-secrets"]), out);
    }
    if (positionals.length !== 1) throw usageError("nvs needs exactly one config file (or --decode <image>)");
    return encode(positionals[0], values, out);
  },
};

async function encode(configPath: string, values: Values, out: Output): Promise<void> {
  const loaded = await loadConfigFile(configPath);
  const { config, generated } = await ensurePortalCredentials(configPath, loaded.config);
  const size = values.size === undefined ? NVS_SIZE : parseSize(String(values.size));
  const version = await firmwareConfigVersion(values, configVersion(config));
  const outPath = (values.out as string | undefined) ?? join(dirname(configPath), `${basename(configPath, extname(configPath))}.nvs.bin`);
  let image: Uint8Array;
  try {
    image = writeNvsImage(nvsEntriesFor(config, version.value), { size });
  } catch (err) {
    if (err instanceof NvsImageError) throw new CliError(`the settings do not fit an NVS image: ${err.message}`, ExitCode.configInvalid);
    throw err;
  }
  await writeFile(outPath, image, { mode: 0o600 });
  const versionHex = version.value.toString(16).padStart(8, "0");
  out.line(`Wrote ${outPath} (${image.length} bytes, NVS format v2, config version ${versionHex} from ${version.source}).`);
  out.line(`It holds Wi-Fi passwords${config.pairing_code ? " and the pairing code" : ""}: keep it private.`);
  await showPortalCredentials(out, config, generated);
  out.line(`Next: lifelog-devices flash --nvs-only ${outPath} --port <serial port>   (writes it at 0x${NVS_OFFSET.toString(16)})`);
  out.result({ image: outPath, bytes: image.length, offset: `0x${NVS_OFFSET.toString(16)}`, config_version: versionHex });
}

async function firmwareConfigVersion(values: Values, ownVersion: string): Promise<{ value: number; source: string }> {
  if (values.firmware !== undefined && values["config-version"] !== undefined) {
    throw usageError("give --firmware or --config-version, not both");
  }
  if (values["config-version"] !== undefined) {
    const hex = String(values["config-version"]).replace(/^0x/i, "").replace(/u$/i, "");
    if (!/^[0-9a-f]{1,8}$/i.test(hex)) throw usageError(`--config-version must be up to 8 hex digits, got ${values["config-version"]}`);
    return { value: parseInt(hex, 16), source: "--config-version" };
  }
  if (values.firmware !== undefined) {
    const header = join(String(values.firmware), "lifelog_config.h");
    let text: string;
    try {
      text = await readFile(header, "utf8");
    } catch {
      throw usageError(`--firmware ${values.firmware}: no lifelog_config.h there; give the folder \`render\` wrote`);
    }
    const match = /#define LIFELOG_CONFIG_VERSION 0x([0-9a-f]{8})u/.exec(text);
    if (!match) throw new CliError(`${header} has no LIFELOG_CONFIG_VERSION`, ExitCode.failure);
    return { value: parseInt(match[1], 16), source: header };
  }
  return { value: parseInt(ownVersion, 16), source: "this config" };
}

function parseSize(text: string): number {
  const size = Number(text);
  if (Number.isNaN(size)) throw usageError(`--size must be a number of bytes (e.g. 0x5000), got ${text}`);
  try {
    validatePartitionSize(size);
  } catch (err) {
    if (err instanceof NvsImageError) throw usageError(`--${err.message} (e.g. 0x5000)`);
    throw err;
  }
  return size;
}

function displayValue(entry: NvsEntry, showSecrets: boolean): string | number {
  if (entry.type !== "string" && isSecretKey(entry.key) && !showSecrets) return maskSecret("x");
  if (typeof entry.value === "string") return showSecrets || !isSecretKey(entry.key) ? entry.value : maskSecret(entry.value);
  if (entry.value instanceof Uint8Array) return `<${entry.value.length} bytes>`;
  return typeof entry.value === "bigint" ? entry.value.toString() : entry.value;
}

/**
 * Reads and decodes an NVS image file. Unreadable is a usage error; larger than `partitionSize`
 * (when given, checked before decoding) or not an NVS image fails with 1.
 */
export async function loadNvsImage(imagePath: string, partitionSize?: number) {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(imagePath));
  } catch (err) {
    throw usageError(`cannot read ${imagePath}: ${(err as Error).message}`);
  }
  if (partitionSize !== undefined && bytes.length > partitionSize) {
    throw new CliError(
      `${imagePath} is ${bytes.length} bytes; the NVS partition holds 0x${partitionSize.toString(16)} (${partitionSize}) bytes`,
      ExitCode.failure,
    );
  }
  try {
    return { bytes, contents: readNvsImage(bytes) };
  } catch (err) {
    if (err instanceof NvsImageError) throw new CliError(`${imagePath} is not a valid NVS image: ${err.message}`, ExitCode.failure);
    throw err;
  }
}

async function decode(imagePath: string, showSecrets: boolean, out: Output): Promise<void> {
  const { bytes, contents } = await loadNvsImage(imagePath);
  const entries = contents.entries.map((e) => ({ namespace: e.namespace, key: e.key, type: e.type, value: displayValue(e, showSecrets) }));
  const used = contents.pages.filter((p) => p.state !== "uninitialized").length;
  out.line(`${imagePath}: ${contents.pages.length} pages (${bytes.length} bytes), ${used} in use, ${entries.length} entries`);
  const keyWidth = Math.max(...entries.map((e) => `${e.namespace}/${e.key}`.length), 0);
  for (const e of entries) {
    const shown = e.key === NvsKey.configVersion && typeof e.value === "number" ? `0x${e.value.toString(16).padStart(8, "0")}` : e.value;
    out.line(`  ${`${e.namespace}/${e.key}`.padEnd(keyWidth)}  ${e.type.padEnd(6)}  ${shown}`);
  }
  if (!showSecrets && entries.some((e) => isSecretKey(e.key))) out.line("Secrets are hidden; add --show-secrets to see them.");
  out.result({ bytes: bytes.length, pages: contents.pages.length, entries });
}
