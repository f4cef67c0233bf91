// Firmware release commands: keygen (the release key), release (sign, upload, create),
// releases (rollout progress), halt, resume-release and rollout.
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { homedir } from "node:os";
import type { Command } from "../command.ts";
import { DEVICE_API_HELP, DEVICE_API_OPTIONS } from "../devices-api.ts";
import { table } from "./devices.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { generateReleaseKey, releaseKeyFromPem, signImage } from "../firmware-signing.ts";
import { findRelease, releasesClient, releaseState, type ReleaseView } from "../releases-api.ts";

/** An app slot of the XIAO ESP32S3's default partition table. */
const MAX_IMAGE_BYTES = 0x330000;
const VERSION = /^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$/;

export function defaultKeyPath(env: NodeJS.ProcessEnv): string {
  const dir = env.LIFELOG_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "lifelog-devices");
  return join(dir, "release-key.pem");
}

const KEY_OPTION = { key: { type: "string" } } as const;
const KEY_HELP = "  --key <file>       the release key (default: release-key.pem in the CLI's config folder)";

export async function readReleaseKey(path: string) {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch {
    throw new CliError(`no release key at ${path}; make one with \`lifelog-devices keygen\``, ExitCode.failure);
  }
  if (((await stat(path)).mode & 0o077) !== 0) {
    throw new CliError(`${path} can be read by other users; run chmod 600 ${path}`, ExitCode.failure);
  }
  try {
    return releaseKeyFromPem(pem);
  } catch (err) {
    throw new CliError(`${path} is not an Ed25519 release key: ${(err as Error).message}`, ExitCode.failure);
  }
}

function percent(value: unknown, flag: string): number {
  const n = Number(value);
  if (typeof value !== "string" || !/^\d{1,3}$/.test(value) || n > 100) throw usageError(`${flag} must be a whole number from 0 to 100`);
  return n;
}

export const keygen: Command = {
  name: "keygen",
  summary: "make the Ed25519 key that signs firmware releases (kept on this computer only)",
  help: `Usage:
  lifelog-devices keygen [--key <file>] [--force]

The private key is written with mode 0600 and is never uploaded: only the public key and
its id travel with each release. Build the public key into the firmware (printed below) so
the cameras accept only images you signed.

Examples:
  lifelog-devices keygen
  lifelog-devices keygen --key ~/keys/lifelog-release.pem --json

Flags:
${KEY_HELP}
  --force            replace an existing key (cameras built with the old one then refuse new releases)`,
  options: { ...KEY_OPTION, force: { type: "boolean" } },
  async run(values, positionals, { out, env }) {
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
    const path = (values.key as string | undefined) ?? defaultKeyPath(env);
    const exists = await stat(path).then(() => true, () => false);
    if (exists && !values.force) throw new CliError(`${path} exists already; repeat with --force to replace it`, ExitCode.usage);
    const key = generateReleaseKey();
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, key.privateKeyPem, { mode: 0o600 });
    await chmod(path, 0o600);
    out.result({ key_file: path, public_key: key.publicKey, key_id: key.keyId });
    out.line(`Wrote the release key to ${path} (mode 0600; keep it safe, it never leaves this computer).`);
    out.line(`Public key: ${key.publicKey}`);
    out.line(`Key id:     ${key.keyId}`);
  },
};

export const release: Command = {
  name: "release",
  summary: "sign a built firmware image, upload it and start its rollout",
  help: `Usage:
  lifelog-devices release <image.bin> --version <x.y.z> [--percent <0-100>] [--min-version <x.y.z>] [--channel <name>] [--key <file>]

Signs version, size and SHA-256 of the image with your release key, uploads the image and
creates the release. Cameras on the channel whose rollout bucket is below --percent are
offered it on their next heartbeat; raising the percentage later (\`rollout\`) only adds cameras.

Examples:
  lifelog-devices release build/lifelog_camera.ino.bin --version 0.4.0 --percent 10
  lifelog-devices release fw.bin --version 0.4.1 --min-version 0.4.0 --percent 100 --json

Flags:
  --version <x.y.z>    the version the image reports (required)
  --percent <n>        how many cameras in percent (default 0: staged, offered to none yet)
  --min-version <v>    the oldest running version that may take this update
  --channel <name>     default: stable
${KEY_HELP}
${DEVICE_API_HELP}`,
  options: {
    ...DEVICE_API_OPTIONS, ...KEY_OPTION, version: { type: "string" }, percent: { type: "string" },
    "min-version": { type: "string" }, channel: { type: "string" },
  },
  async run(values, positionals, { out, env }) {
    if (positionals.length !== 1) throw usageError("release needs one image file, e.g. release fw.bin --version 0.4.0");
    const version = values.version as string | undefined;
    if (!version || !VERSION.test(version)) throw usageError("--version must be major.minor.patch, e.g. --version 0.4.0");
    const minVersion = (values["min-version"] as string | undefined) ?? null;
    if (minVersion !== null && !VERSION.test(minVersion)) throw usageError("--min-version must be major.minor.patch");
    const channel = (values.channel as string | undefined) ?? "stable";
    if (!/^[a-z0-9-]{1,32}$/.test(channel)) throw usageError("--channel: lower-case letters, digits and - only");
    const rollout = values.percent === undefined ? 0 : percent(values.percent, "--percent");
    let image: Uint8Array;
    try {
      image = await readFile(positionals[0]);
    } catch {
      throw new CliError(`cannot read ${positionals[0]}`, ExitCode.failure);
    }
    if (image.length === 0 || image.length > MAX_IMAGE_BYTES) {
      throw new CliError(`${positionals[0]} has ${image.length} bytes; an image must be 1 to ${MAX_IMAGE_BYTES} bytes (one app slot)`, ExitCode.failure);
    }
    const key = await readReleaseKey((values.key as string | undefined) ?? defaultKeyPath(env));
    const signed = signImage(key, version, image);
    const client = await releasesClient(values, env);
    const progress = out.progress(`Uploading ${image.length} bytes`);
    let sent: boolean;
    try {
      sent = await client.upload(image, signed);
      progress.done();
    } catch (err) {
      progress.fail();
      throw err;
    }
    const created = await client.create({ ...signed, channel, min_version: minVersion, rollout_percent: rollout });
    out.result(created);
    out.line(`${sent ? "Uploaded" : "Already stored:"} ${image.length} bytes, sha256 ${signed.sha256.slice(0, 16)}…, signed with key ${key.keyId}.`);
    out.line(`Release ${created.version} on ${created.channel}: ${created.rollout_percent} % of cameras (id ${created.id.slice(0, 8)}).`);
  },
};

export function releaseRows(list: ReleaseView[]): string[][] {
  return [
    ["VERSION", "CHANNEL", "ID", "ROLLOUT", "STATE", "OFFERED", "DOWNLOADED", "INSTALLED", "CONFIRMED", "ROLLED BACK", "REFUSED"],
    ...list.map((r) => [
      r.version, r.channel, r.id.slice(0, 8), `${r.rollout_percent}%`, releaseState(r),
      String(r.progress.offered), String(r.progress.downloaded), String(r.progress.installed),
      String(r.progress.confirmed), String(r.progress.rolled_back), String(r.progress.refused),
    ]),
  ];
}

export const releases: Command = {
  name: "releases",
  summary: "list firmware releases and their rollout progress",
  help: `Usage:
  lifelog-devices releases [--json]

Per release: the rollout percentage, whether it is halted (by you, or by itself when too
many cameras rolled back), and how many cameras were offered it, downloaded, installed,
confirmed, rolled back or refused it.

Examples:
  lifelog-devices releases
  lifelog-devices releases --json | jq '.[] | {version, progress}'

Flags:
${DEVICE_API_HELP}`,
  options: { ...DEVICE_API_OPTIONS },
  async run(values, positionals, { out, env }) {
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
    const list = await (await releasesClient(values, env)).list();
    out.result(list);
    if (list.length === 0) {
      out.line("No releases yet. Make one: lifelog-devices release <image.bin> --version <x.y.z>");
      return;
    }
    out.line(table(releaseRows(list)));
  },
};

function changeCommand(name: string, action: "halt" | "resume" | "rollout", summary: string, example: string): Command {
  return {
    name,
    summary,
    help: `Usage:
  lifelog-devices ${name} <version|id>${action === "rollout" ? " <percent>" : ""} [--channel <name>]

Examples:
  ${example}

Flags:
  --channel <name>   the channel of the version (default: stable)
${DEVICE_API_HELP}`,
    options: { ...DEVICE_API_OPTIONS, channel: { type: "string" } },
    async run(values, positionals, { out, env }) {
      const wanted = action === "rollout" ? 2 : 1;
      if (positionals.length !== wanted) throw usageError(`${name} needs ${action === "rollout" ? "a release and a percentage" : "one release"}, e.g. ${example.replace("lifelog-devices ", "")}`);
      const rollout = action === "rollout" ? percent(positionals[1], "the percentage") : undefined;
      const client = await releasesClient(values, env);
      const target = findRelease(await client.list(), positionals[0], (values.channel as string | undefined) ?? "stable");
      const changed = await client.change(action, target.id, rollout);
      out.result(changed);
      out.line(action === "rollout"
        ? `Release ${changed.version} now reaches ${changed.rollout_percent} % of cameras.`
        : `Release ${changed.version} is ${changed.halted ? "halted: no camera is offered it" : `rolling out again to ${changed.rollout_percent} % of cameras`}.`);
    },
  };
}

export const halt = changeCommand("halt", "halt", "stop offering a firmware release", "lifelog-devices halt 0.4.0");
export const resumeRelease = changeCommand("resume-release", "resume", "offer a halted firmware release again", "lifelog-devices resume-release 0.4.0");
export const rollout = changeCommand("rollout", "rollout", "change how many cameras a firmware release reaches", "lifelog-devices rollout 0.4.0 50");
