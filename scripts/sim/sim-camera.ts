// Runs the simulated camera: the firmware's portable core built for the host
// (firmware-config/host/sim_camera_main.cpp), with a folder as SD card and a file as NVS.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../stack/stack.ts";

export const SIM_CAMERA = join(PROJECT_ROOT, "firmware-config/build/sim-camera");

export type CameraEvent = { event: string; t_ms: number } & Record<string, unknown>;

/** `make -C firmware-config sim` (incremental). */
export async function buildSimCamera(): Promise<string> {
  await promisify(execFile)("make", ["-C", join(PROJECT_ROOT, "firmware-config"), "sim"], { timeout: 300_000 });
  return SIM_CAMERA;
}

export interface SimCameraOptions {
  apiBase: string;
  card: string;
  nvs: string;
  pairingCode?: string;
  intervalMs: number;
  photos?: number;
  exitWhenDrained?: boolean;
  photoSize?: number;
  extraArgs?: string[];
  onEvent?: (e: CameraEvent) => void;
}

export interface SimCameraRun {
  child: ChildProcess;
  events: CameraEvent[];
  /** the exit code, or null when killed by a signal */
  exit: Promise<number | null>;
}

export function startSimCamera(o: SimCameraOptions): SimCameraRun {
  const args = ["--api", o.apiBase, "--card", o.card, "--nvs", o.nvs, "--interval-ms", String(o.intervalMs), "--log-json"];
  if (o.pairingCode) args.push("--pairing-code", o.pairingCode);
  if (o.photos !== undefined) args.push("--photos", String(o.photos));
  if (o.exitWhenDrained) args.push("--exit-when-drained");
  if (o.photoSize !== undefined) args.push("--photo-size", String(o.photoSize));
  args.push(...(o.extraArgs ?? []));

  const child = spawn(SIM_CAMERA, args, { stdio: ["ignore", "pipe", "pipe"] });
  const events: CameraEvent[] = [];
  let partial = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      const e = JSON.parse(line) as CameraEvent;
      events.push(e);
      o.onEvent?.(e);
    }
  });
  child.stderr!.resume();
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, events, exit };
}
