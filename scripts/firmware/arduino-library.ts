// The portable firmware core as an Arduino library (library format 1.5: library.properties and
// src/), zipped the way `arduino-cli lib install --zip-path` takes it: one top folder named after
// the library. Headers go to src/lifelog/ so a sketch writes `#include <lifelog/uploader.h>`;
// sources go flat into src/. Same inputs give a byte-identical zip (fixed times, sorted entries).
//   npx tsx scripts/firmware/arduino-library.ts OUT.zip
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";

import { coreHeaderNames, coreSourceFiles, DEFAULT_FIRMWARE_ROOT, LIBRARY_HEADER, LIBRARY_NAME } from "./core-layout.ts";

export { LIBRARY_HEADER, LIBRARY_NAME } from "./core-layout.ts";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function libraryProperties(version: string, headers: string[]): string {
  return [
    `name=${LIBRARY_NAME}`,
    `version=${version}`,
    "author=lifelog-devices",
    "maintainer=lifelog-devices",
    "sentence=The portable core of the lifelog camera: capture queue on the SD card, uploader, device API client.",
    "paragraph=Hardware-free C++17: the sketch supplies the card, network, clock, camera and key-value store through the interfaces in lifelog/*.h.",
    "category=Communication",
    "url=https://github.com/lifelog-devices/lifelog-devices",
    "architectures=*",
    `includes=${[LIBRARY_HEADER, ...headers.map((h) => `lifelog/${h}`)].join(",")}`,
    "",
  ].join("\n");
}

/** Every file of the library, relative to its top folder, sorted. */
export async function libraryFiles(firmwareRoot = DEFAULT_FIRMWARE_ROOT): Promise<Map<string, Buffer>> {
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  const headers = await coreHeaderNames(firmwareRoot);
  const files = new Map(await coreSourceFiles(firmwareRoot));
  files.set("library.properties", Buffer.from(libraryProperties(version, headers)));
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

// 1980-01-01 00:00 in DOS time: the zip's entries carry no build time.
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

/** A zip (deflate) of the given files under `top/`. Pure. */
export function zipFiles(top: string, files: Map<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [path, data] of files) {
    const name = Buffer.from(`${top}/${path}`, "utf8");
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.size, 8);
  end.writeUInt16LE(files.size, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export async function writeLibraryZip(outFile: string, firmwareRoot?: string): Promise<string[]> {
  const files = await libraryFiles(firmwareRoot);
  await writeFile(outFile, zipFiles(LIBRARY_NAME, files));
  return [...files.keys()];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: tsx scripts/firmware/arduino-library.ts OUT.zip");
    process.exit(2);
  }
  const files = await writeLibraryZip(out);
  console.log(`${out}: ${LIBRARY_NAME} (${files.length} files); install with: arduino-cli lib install --zip-path ${out}`);
}
