// CRC-32 (IEEE, reflected polynomial 0xEDB88320) with the same seed convention as Python's
// zlib.crc32(data, seed): the seed is the previous result, inverted on entry and exit.
const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

export function crc32(data: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const byte of data) c = TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** NVS computes every checksum as zlib.crc32(data, 0xFFFFFFFF) (esp_rom_crc32_le(0xffffffff, ...) on the chip). */
export function nvsCrc32(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) crc = crc32(part, crc);
  return crc;
}
