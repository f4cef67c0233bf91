// CRC-32 as zlib computes it (the seed is the previous result); shared with the API code.
import { crc32 } from "../../../functions/_shared/crypto.ts";

export { crc32 };

/** NVS computes every checksum as zlib.crc32(data, 0xFFFFFFFF) (esp_rom_crc32_le(0xffffffff, ...) on the chip). */
export function nvsCrc32(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) crc = crc32(part, crc);
  return crc;
}
