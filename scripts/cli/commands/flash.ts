import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";

import { FQBN, SKETCH_NAME } from "../../firmware/render-sketch.ts";
import type { Command, CommandContext, Values } from "../command.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { NVS_OFFSET, NVS_SIZE } from "../nvs-settings.ts";
import { commandLine, findOnPath, runStreaming } from "../run-tool.ts";
import { loadNvsImage } from "./nvs.ts";

const ESP32_BOARDS_URL = "https://raw.githubusercontent.com/espressif/arduino-esp32/gh-pages/package_esp32_index.json";
const ESP32_CORE = "esp32:esp32";
const ESPTOOL_NAMES = ["esptool", "esptool.py"];

// The sketch needs no `arduino-cli lib install`: WiFi, Preferences, SD, WebServer, DNSServer and
// esp32-camera all ship with the esp32 core.

/** The arduino-cli invocations, in order: board index, core, compile, upload. */
function arduinoCliSteps(sketchDir: string, port: string, fqbn = FQBN): string[][] {
  return [
    ["core", "update-index", "--additional-urls", ESP32_BOARDS_URL],
    ["core", "install", ESP32_CORE, "--additional-urls", ESP32_BOARDS_URL],
    ["compile", "--fqbn", fqbn, sketchDir],
    ["upload", "--fqbn", fqbn, "--port", port, sketchDir],
  ];
}

function esptoolArgs(image: string, port: string): string[] {
  return ["--chip", "esp32s3", "--port", port, "write_flash", `0x${NVS_OFFSET.toString(16)}`, image];
}

export const flash: Command = {
  name: "flash",
  summary: "compile and upload a rendered sketch (arduino-cli), or write only the NVS image (esptool)",
  help: `Usage:
  lifelog-devices flash <sketch dir> --port <serial port> [--fqbn <fqbn>] [--dry-run]
  lifelog-devices flash --nvs-only <image.bin> --port <serial port> [--dry-run]

With arduino-cli on PATH: installs the esp32 board core (from Espressif's board index), compiles
with ${FQBN} (OPI PSRAM is required) and uploads, showing arduino-cli's progress.
With --nvs-only: writes an image made by \`lifelog-devices nvs\` at 0x${NVS_OFFSET.toString(16)} with esptool
(chip esp32s3), leaving the firmware alone.
Without the tool on PATH it prints the exact commands to run and exits with 1 (nothing flashed).

Flags:
  --port <port>       the camera's serial port, e.g. /dev/ttyACM0 or COM5
  --fqbn <fqbn>       board id (default ${FQBN})
  --nvs-only <image>  flash only this NVS partition image
  --dry-run           print the commands without running anything`,
  options: {
    port: { type: "string", short: "p" },
    fqbn: { type: "string" },
    "nvs-only": { type: "string" },
    "dry-run": { type: "boolean" },
  },
  async run(values, positionals, ctx) {
    if (values.port === undefined) throw usageError("--port is required (the camera's serial port, e.g. /dev/ttyACM0)");
    if (values["nvs-only"] !== undefined) {
      if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
      return flashNvs(String(values["nvs-only"]), values, ctx);
    }
    if (positionals.length !== 1) throw usageError("flash needs the sketch folder that `render` wrote (or --nvs-only <image>)");
    return flashSketch(positionals[0], values, ctx);
  },
};

async function flashSketch(sketchDir: string, values: Values, ctx: CommandContext): Promise<void> {
  if (!existsSync(join(sketchDir, `${basename(resolve(sketchDir))}.ino`))) {
    throw usageError(`${sketchDir} is not a sketch folder (no ${SKETCH_NAME}.ino); give the folder \`render\` wrote`);
  }
  const steps = arduinoCliSteps(sketchDir, String(values.port), (values.fqbn as string | undefined) ?? FQBN);
  await runOrPrint("arduino-cli", ["arduino-cli"], steps, values, ctx, "https://arduino.github.io/arduino-cli/latest/installation/");
  ctx.out.line("The camera restarts with the new firmware; it activates with its pairing code once it is online.");
}

async function flashNvs(image: string, values: Values, ctx: CommandContext): Promise<void> {
  await loadNvsImage(image, NVS_SIZE);
  await runOrPrint("esptool", ESPTOOL_NAMES, [esptoolArgs(image, String(values.port))], values, ctx, "https://docs.espressif.com/projects/esptool/ (pip install esptool)");
  ctx.out.line("The camera keeps its firmware and reads the new settings on its next boot.");
}

async function runOrPrint(
  label: string,
  programNames: readonly string[],
  steps: string[][],
  values: Values,
  { out, env }: CommandContext,
  installHint: string,
): Promise<void> {
  const program = values["dry-run"] ? undefined : findOnPath(programNames, env);
  const shownName = program ? basename(program) : programNames[0];
  const lines = steps.map((args) => commandLine([shownName, ...args]));
  if (!program) {
    out.line(values["dry-run"] ? "Commands:" : `${label} is not on PATH. Run these commands yourself:`);
    for (const line of lines) out.line(`  ${line}`);
    out.result({ ran: false, commands: lines });
    if (values["dry-run"]) return;
    throw new CliError(`${label} is not on PATH, so nothing was flashed; install it (${installHint}) or run the commands above`, ExitCode.failure);
  }
  for (const [i, args] of steps.entries()) {
    out.passthrough(`[${i + 1}/${steps.length}] ${lines[i]}\n`);
    const code = await runStreaming(program, args, env, out);
    if (code !== 0) {
      throw new CliError(`${lines[i]} failed with exit code ${code}; see its output above`, ExitCode.failure);
    }
  }
  out.line(`Done: ${steps.length === 1 ? "flashed" : "compiled and uploaded"} with ${shownName}.`);
  out.result({ ran: true, commands: lines });
}
