// Runs the simulated camera: the firmware's portable core built for the host
// (firmware-config/host/sim_camera_main.cpp), with a folder as SD card and a file as NVS.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../stack/stack.ts";

export const SIM_CAMERA = join(PROJECT_ROOT, "firmware-config/build/sim-camera");

export type CameraEvent = { event: string; t_ms: number } & Record<string, unknown>;

/** `make -C firmware-config sim` (incremental). */
export async function buildSimCamera(): Promise<string> {
  await promisify(execFile)("make", ["-C", join(PROJECT_ROOT, "firmware-config"), "sim"], { timeout: 300_000 });
  return SIM_CAMERA;
}

/**
 * The bytes the simulated camera's synthetic sensor (host/host_cameras.cpp) produces for
 * a frame: a fixed JPEG header naming the frame, xorshift scan data, EOI. Tests use it
 * to know what each stored photo must be, independently of what the camera reported.
 */
export function syntheticFrame(seed: number, frame: number, size: number): Uint8Array {
  const total = Math.max(size, 128);
  const comment = new TextEncoder().encode(`lifelog-sim frame=${String(frame).padStart(8, "0")}`);
  const head = [
    0xff, 0xd8, // SOI
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, // APP0 "JFIF"
    0xff, 0xfe, 0x00, comment.length + 2, ...comment, // COM
    0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0xf0, 0x01, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, // SOS
  ];
  const out = new Uint8Array(total);
  out.set(head);
  let x = ((seed ^ Math.imul(frame, 0x9e3779b9)) | 1) >>> 0;
  for (let i = head.length; i < total - 2; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    const b = x >>> 24;
    out[i] = b === 0xff ? 0xfe : b; // no markers inside the scan
  }
  out.set([0xff, 0xd9], total - 2);
  return out;
}

/** A frame's size with `--photo-size-max` (host/host_cameras.h SyntheticJpegCamera::frame_size). */
export function syntheticFrameSize(frame: number, size: number, sizeMax?: number): number {
  return sizeMax !== undefined && sizeMax > size ? size + Number((BigInt(frame) * 7919n) % BigInt(sizeMax - size + 1)) : size;
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
  /** sizes vary per frame between photoSize and this (syntheticFrameSize) */
  photoSizeMax?: number;
  /** a folder of real JPEGs to replay in name order (render-day.ts) instead of synthetic bytes */
  frames?: string;
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
  if (o.photoSizeMax !== undefined) args.push("--photo-size-max", String(o.photoSizeMax));
  if (o.frames !== undefined) args.push("--fixtures", o.frames);
  args.push(...(o.extraArgs ?? []));

  const child = spawn(SIM_CAMERA, args, { stdio: ["ignore", "pipe", "pipe"] });
  const events: CameraEvent[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    const e = JSON.parse(line) as CameraEvent;
    events.push(e);
    o.onEvent?.(e);
  });
  child.stderr!.resume();
  // "close", not "exit": only then has every line the camera wrote been read.
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, events, exit };
}
