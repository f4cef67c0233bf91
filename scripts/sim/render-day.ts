// A simulated day as a folder of real JPEGs (frame-0000.jpg …) for sim-camera's --fixtures,
// which replays a folder's .jpg files in name order. Kept when already complete.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderFrame } from "./scene.ts";

export async function renderDay(dir: string, frames: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const have = new Set(await readdir(dir));
  for (let i = 0; i < frames; i++) {
    const name = `frame-${String(i).padStart(4, "0")}.jpg`;
    if (!have.has(name)) await writeFile(join(dir, name), (await renderFrame(i, frames)).jpeg);
  }
  return dir;
}
