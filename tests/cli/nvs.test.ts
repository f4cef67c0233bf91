import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32, nvsCrc32 } from "../../scripts/cli/nvs/crc32.ts";
import { type NvsEntry, NvsImageError } from "../../scripts/cli/nvs/format.ts";
import { readNvsImage } from "../../scripts/cli/nvs/reader.ts";
import { writeNvsImage } from "../../scripts/cli/nvs/writer.ts";

const PAGE = 4096;

// ---- independent helpers (deliberately not using the code under test) ----

/** Bit-by-bit CRC-32 with zlib.crc32(data, seed) semantics. */
function referenceCrc32(data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const ascii = (text: string) => new TextEncoder().encode(text);
const hex = (...parts: string[]) => Uint8Array.from(Buffer.from(parts.join("").replace(/\s+/g, ""), "hex"));
const u16 = (bytes: Uint8Array, at: number) => bytes[at] | (bytes[at + 1] << 8);
const u32 = (bytes: Uint8Array, at: number) => (u16(bytes, at) | (u16(bytes, at + 2) << 16)) >>> 0;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Deterministic test data (a plain LCG), also used to build the esp-idf reference images. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 16;
  }
  return bytes;
}

/** Walks an image by the documented layout and checks every header, entry and data CRC; returns how many. */
function verifyCrcsIndependently(image: Uint8Array): number {
  let checked = 0;
  for (let base = 0; base < image.length; base += PAGE) {
    const page = image.subarray(base, base + PAGE);
    if (page.every((byte) => byte === 0xff)) continue;
    expect(u32(page, 28)).toBe(referenceCrc32(page.subarray(4, 28), 0xffffffff));
    checked++;
    let entry = 0;
    while (entry < 126) {
      const state = (page[32 + (entry >> 2)] >> ((entry & 3) * 2)) & 3;
      if (state !== 0b10) {
        entry++;
        continue;
      }
      const item = page.subarray(64 + entry * 32, 96 + entry * 32);
      const headerBytes = Uint8Array.from([...item.subarray(0, 4), ...item.subarray(8, 32)]);
      expect(u32(item, 4)).toBe(referenceCrc32(headerBytes, 0xffffffff));
      checked++;
      if (item[1] === 0x21 || item[1] === 0x42) {
        const payload = page.subarray(96 + entry * 32, 96 + entry * 32 + u16(item, 24));
        expect(u32(item, 28)).toBe(referenceCrc32(payload, 0xffffffff));
        checked++;
      }
      entry += item[2];
    }
  }
  return checked;
}

/** What the reader returns: u64/i64 as bigint, smaller integers as number. */
function normalized(entries: NvsEntry[]): NvsEntry[] {
  return entries.map((entry) => {
    if (entry.type === "u64" || entry.type === "i64") return { ...entry, value: BigInt(entry.value as number) };
    if (typeof entry.value === "bigint") return { ...entry, value: Number(entry.value) };
    return entry;
  });
}

function roundTrip(entries: NvsEntry[], size: number) {
  const image = writeNvsImage(entries, { size });
  expect(image.length).toBe(size);
  const contents = readNvsImage(image);
  expect(contents.entries).toEqual(normalized(entries));
  expect(verifyCrcsIndependently(image)).toBeGreaterThan(0);
  return { image, ...contents };
}

const states = (pages: { state: string }[]) => pages.map((page) => page.state);

// ---- tests ----

describe("CRC-32", () => {
  it("reference implementation gives the standard check value and zlib's seeded value", () => {
    expect(referenceCrc32(ascii("123456789"))).toBe(0xcbf43926);
    // NVS uses zlib.crc32(data, 0xFFFFFFFF); Python: hex(zlib.crc32(b"123456789", 0xFFFFFFFF)) == 0xd202d277
    expect(referenceCrc32(ascii("123456789"), 0xffffffff)).toBe(0xd202d277);
    expect(referenceCrc32(new Uint8Array(0), 0xffffffff)).toBe(0xffffffff);
  });

  it("module CRC matches the reference", () => {
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
    expect(nvsCrc32(ascii("123456789"))).toBe(0xd202d277);
    for (const length of [0, 1, 31, 32, 33, 1000]) {
      const data = pseudoRandomBytes(length, length + 1);
      expect(nvsCrc32(data)).toBe(referenceCrc32(data, 0xffffffff));
      expect(nvsCrc32(data.subarray(0, 7), data.subarray(7))).toBe(referenceCrc32(data, 0xffffffff));
    }
  });
});

describe("byte layout of a small image", () => {
  const image = writeNvsImage(
    [
      { namespace: "lifelog", key: "led", type: "u8", value: 1 },
      { namespace: "lifelog", key: "name", type: "string", value: "cam-01" },
    ],
    { size: 0x3000 },
  );
  const page0 = image.subarray(0, PAGE);

  // Worked out from the documented format. CRC values were computed with Python's
  // zlib.crc32(..., 0xFFFFFFFF) and match esp-idf-nvs-partition-gen 0.2.0 output for the same CSV.
  it("page header", () => {
    const header = hex(
      "fe ff ff ff", // state ACTIVE 0xFFFFFFFE, little-endian (last written page stays active)
      "00 00 00 00", // sequence number 0
      "fe", // format version 2
      "ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff", // 19 unused bytes
      "84 2d ba b9", // CRC32 of bytes 4..27 = 0xb9ba2d84
    );
    expect(page0.subarray(0, 32)).toEqual(header);
    expect(referenceCrc32(header.subarray(4, 28), 0xffffffff)).toBe(0xb9ba2d84);
  });

  it("entry state bitmap", () => {
    // entries 0..3 written (0b10 each, entry 0 in the lowest bits): 0b10101010; the rest empty (0b11)
    expect(page0.subarray(32, 64)).toEqual(hex("aa", "ff".repeat(31)));
  });

  it("entries", () => {
    const namespaceEntry = hex(
      "00 01 01 ff", // namespace 0 (namespace table), type U8, span 1, chunk index 0xFF
      "0f f5 86 37", // CRC32 of bytes 0..3 + 8..31 = 0x3786f50f
      "6c 69 66 65 6c 6f 67 00 00 00 00 00 00 00 00 00", // key "lifelog", NUL-padded to 16
      "01 ff ff ff ff ff ff ff", // value: namespace index 1, padded with 0xFF
    );
    const ledEntry = hex(
      "01 01 01 ff", // namespace 1, type U8, span 1, chunk index 0xFF
      "1b cf 48 24", // CRC32 = 0x2448cf1b
      "6c 65 64 00 00 00 00 00 00 00 00 00 00 00 00 00", // key "led"
      "01 ff ff ff ff ff ff ff", // value 1
    );
    const stringHeader = hex(
      "01 21 02 ff", // namespace 1, type string 0x21, span 2 (header + 1 data entry), chunk index 0xFF
      "f7 08 a0 f8", // CRC32 = 0xf8a008f7
      "6e 61 6d 65 00 00 00 00 00 00 00 00 00 00 00 00", // key "name"
      "07 00 ff ff", // size 7 ("cam-01" + NUL), 2 reserved bytes
      "45 53 c5 57", // CRC32 of the 7 data bytes = 0x57c55345
    );
    const stringData = hex("63 61 6d 2d 30 31 00", "ff".repeat(25)); // "cam-01\0", padded with 0xFF
    expect(page0.subarray(64, 96)).toEqual(namespaceEntry);
    expect(page0.subarray(96, 128)).toEqual(ledEntry);
    expect(page0.subarray(128, 160)).toEqual(stringHeader);
    expect(page0.subarray(160, 192)).toEqual(stringData);
    expect(referenceCrc32(ascii("cam-01\0"), 0xffffffff)).toBe(0x57c55345);
  });

  it("everything else is erased flash", () => {
    expect(image.subarray(192).every((byte) => byte === 0xff)).toBe(true);
    expect(verifyCrcsIndependently(image)).toBe(1 + 3 + 1); // header, 3 item headers, 1 string payload
  });
});

describe("round trips", () => {
  it("every integer type at its boundaries", () => {
    const entries: NvsEntry[] = [
      { namespace: "t", key: "u8_0", type: "u8", value: 0 },
      { namespace: "t", key: "u8_max", type: "u8", value: 255 },
      { namespace: "t", key: "i8_min", type: "i8", value: -128 },
      { namespace: "t", key: "i8_max", type: "i8", value: 127 },
      { namespace: "t", key: "i8_neg1", type: "i8", value: -1 },
      { namespace: "t", key: "u16_max", type: "u16", value: 0xffff },
      { namespace: "t", key: "i16_min", type: "i16", value: -32768 },
      { namespace: "t", key: "i16_max", type: "i16", value: 32767 },
      { namespace: "t", key: "u32_0", type: "u32", value: 0 },
      { namespace: "t", key: "u32_max", type: "u32", value: 0xffffffff },
      { namespace: "t", key: "i32_min", type: "i32", value: -2147483648 },
      { namespace: "t", key: "i32_max", type: "i32", value: 2147483647 },
      { namespace: "t", key: "u64_0", type: "u64", value: 0n },
      { namespace: "t", key: "u64_max", type: "u64", value: 0xffffffffffffffffn },
      { namespace: "t", key: "u64_number", type: "u64", value: 123456789 },
      { namespace: "t", key: "i64_min", type: "i64", value: -(1n << 63n) },
      { namespace: "t", key: "i64_max", type: "i64", value: (1n << 63n) - 1n },
      { namespace: "t", key: "i64_neg", type: "i64", value: -5 },
      { namespace: "t", key: "u8_bigint", type: "u8", value: 7n },
      { namespace: "t", key: "fifteen_chars__", type: "u8", value: 15 },
    ];
    const { pages } = roundTrip(entries, 0x3000);
    expect(states(pages)).toEqual(["active", "uninitialized", "uninitialized"]);
    expect(pages[0]).toMatchObject({ sequence: 0, version: 0xfe, writtenEntries: 21, erasedEntries: 0 });
  });

  it("strings: empty, UTF-8, long (spanning many entries) and a whole-page 4000-byte string", () => {
    const { image } = roundTrip(
      [
        { namespace: "s", key: "empty", type: "string", value: "" },
        { namespace: "s", key: "utf8", type: "string", value: "héllo ✓ ünïcode" },
        { namespace: "s", key: "long", type: "string", value: "abcdefghij".repeat(300) }, // 3001 bytes, span 96
        { namespace: "s", key: "max", type: "string", value: "m".repeat(3999) }, // 4000 bytes, span 126
      ],
      0x4000,
    );
    // "max" cannot follow on page 0, so it fills page 1 entirely: header at entry 0 with span 126
    expect(image.subarray(PAGE + 64, PAGE + 68)).toEqual(hex("01 21 7e ff"));
    // entries 0..123 written in 31 bytes of 0b10101010; last byte: entries 124, 125 written, 4 unused bits set
    expect(image.subarray(PAGE + 32, PAGE + 64)).toEqual(hex("aa".repeat(31), "fa"));
  });

  it("a string that does not fit the rest of a page moves to the next page, which marks the first one full", () => {
    const { pages, image } = roundTrip(
      [
        { namespace: "s", key: "first", type: "string", value: "a".repeat(2999) }, // 3000 bytes: span 95
        { namespace: "s", key: "second", type: "string", value: "b".repeat(1999) }, // 2000 bytes: span 64
      ],
      0x3000,
    );
    expect(states(pages)).toEqual(["full", "active", "uninitialized"]);
    expect(pages.map((page) => page.writtenEntries)).toEqual([1 + 95, 64, 0]);
    expect(image.subarray(0, 4)).toEqual(hex("fc ff ff ff")); // FULL
    expect(image.subarray(PAGE, PAGE + 9)).toEqual(hex("fe ff ff ff 01 00 00 00 fe")); // ACTIVE, seq 1, v2
  });

  it("a blob larger than a page is split into chunks plus a blob index", () => {
    const blob = pseudoRandomBytes(10_000, 3);
    const { image, pages } = roundTrip(
      [
        { namespace: "b", key: "big", type: "blob", value: blob },
        { namespace: "b", key: "after", type: "u16", value: 42 },
      ],
      0x5000,
    );
    expect(states(pages)).toEqual(["full", "full", "active", "uninitialized", "uninitialized"]);
    const entryAt = (page: number, entry: number) => image.subarray(page * PAGE + 64 + entry * 32).subarray(0, 32);
    // page 0: namespace entry, then chunk 0 filling the rest (124 data entries = 3968 bytes)
    expect(entryAt(0, 1).subarray(0, 4)).toEqual(hex("01 42 7d 00")); // blob data, span 125, chunk 0
    expect(u16(entryAt(0, 1), 24)).toBe(3968);
    expect(entryAt(1, 0).subarray(0, 4)).toEqual(hex("01 42 7e 01")); // chunk 1, span 126
    expect(u16(entryAt(1, 0), 24)).toBe(4000);
    expect(entryAt(2, 0).subarray(0, 4)).toEqual(hex("01 42 41 02")); // chunk 2, span 65 (2032 bytes = 63.5 entries)
    expect(u16(entryAt(2, 0), 24)).toBe(10_000 - 3968 - 4000);
    // blob index right after the last chunk: size 10000, 3 chunks starting at 0, 2 reserved bytes
    expect(entryAt(2, 65).subarray(0, 4)).toEqual(hex("01 48 01 ff"));
    expect(entryAt(2, 65).subarray(24, 32)).toEqual(hex("10 27 00 00 03 00 ff ff"));
  });

  it("empty and tiny blobs", () => {
    roundTrip(
      [
        { namespace: "b", key: "empty", type: "blob", value: new Uint8Array(0) },
        { namespace: "b", key: "one", type: "blob", value: Uint8Array.of(0xff) },
        { namespace: "b", key: "exact", type: "blob", value: pseudoRandomBytes(64, 9) },
      ],
      0x3000,
    );
  });

  it("many keys in several namespaces across several pages, interleaved", () => {
    const entries: NvsEntry[] = [];
    for (let i = 0; i < 120; i++) {
      for (const namespace of ["camera", "wifi", "upload"]) {
        entries.push({ namespace, key: `key${i}`, type: i % 2 ? "u32" : "i16", value: i % 2 ? i * 1000 : -(i + 1) });
      }
    }
    entries.push({ namespace: "late", key: "name", type: "string", value: "x".repeat(300) }); // 301 bytes: span 11
    const { pages } = roundTrip(entries, 0x5000);
    expect(states(pages)).toEqual(["full", "full", "active", "uninitialized", "uninitialized"]);
    expect(pages.slice(0, 3).map((page) => page.sequence)).toEqual([0, 1, 2]);
    expect(pages.reduce((sum, page) => sum + page.writtenEntries, 0)).toBe(3 + 360 + 1 + 11); // namespace entries + keys + namespace "late" + its string
  });
});

describe("identical to esp-idf-nvs-partition-gen 0.2.0", () => {
  // Reference hashes: the same entries written as a CSV (namespace row, then `key,data,<type>,<value>`
  // rows; blobs as `key,file,binary,<file>`) and run through
  // `python -m esp_idf_nvs_partition_gen generate in.csv out.bin <size>`.
  const cases: { name: string; size: number; entries: NvsEntry[]; sha256: string }[] = [
    {
      name: "small",
      size: 0x5000,
      entries: [
        { namespace: "lifelog", key: "led", type: "u8", value: 1 },
        { namespace: "lifelog", key: "name", type: "string", value: "cam-01" },
      ],
      sha256: "3f6f956daef11e30574ff4864a0f1de736df57a028ca90df28589470de3af40a",
    },
    {
      name: "every type at its boundaries",
      size: 0x3000,
      entries: [
        { namespace: "t", key: "u8min", type: "u8", value: 0 },
        { namespace: "t", key: "u8max", type: "u8", value: 255 },
        { namespace: "t", key: "i8min", type: "i8", value: -128 },
        { namespace: "t", key: "i8max", type: "i8", value: 127 },
        { namespace: "t", key: "u16max", type: "u16", value: 65535 },
        { namespace: "t", key: "i16min", type: "i16", value: -32768 },
        { namespace: "t", key: "u32max", type: "u32", value: 4294967295 },
        { namespace: "t", key: "i32min", type: "i32", value: -2147483648 },
        { namespace: "t", key: "u64max", type: "u64", value: 18446744073709551615n },
        { namespace: "t", key: "i64min", type: "i64", value: -9223372036854775808n },
        { namespace: "t", key: "empty", type: "string", value: "" },
        { namespace: "t", key: "utf8", type: "string", value: "héllo ✓" },
        { namespace: "t", key: "blob1", type: "blob", value: pseudoRandomBytes(5, 1) },
        { namespace: "t", key: "blob32", type: "blob", value: pseudoRandomBytes(32, 2) },
      ],
      sha256: "5b555b4872e4bebf720f16eb9140db8a10483fcc173dacbc1ae8c0aabae46ec5",
    },
    {
      name: "strings spilling over three pages",
      size: 0x5000,
      entries: [1, 2, 3, 4].map((i) => ({ namespace: "s", key: `str${i}`, type: "string", value: "x".repeat(1500 + i * 300) })),
      sha256: "bf72f449ff849dfbe514403c21cc88ee614f6794a1dab340490e6b0a290259d3",
    },
    {
      name: "multi-page blob after a string",
      size: 0x6000,
      entries: [
        { namespace: "b", key: "pre", type: "string", value: "y".repeat(1000) },
        { namespace: "b", key: "big", type: "blob", value: pseudoRandomBytes(10_000, 3) },
        { namespace: "b", key: "after", type: "u32", value: 7 },
      ],
      sha256: "808e751a52d78ada808738a7968d15686aacc6aec5874116758f496e3b577545",
    },
    {
      name: "330 keys in three namespaces",
      size: 0x5000,
      entries: ["alpha", "beta", "gamma"].flatMap((namespace, n) =>
        Array.from({ length: 110 }, (_, i): NvsEntry => ({ namespace, key: `k${i}`, type: "u32", value: i * 1000 + n })),
      ),
      sha256: "b14c394b71ca5cf23e712482a5e7d3ec3a76165a52e328e7d1d946d4d0cd6653",
    },
    {
      name: "15000-byte blob in the default 0x5000 partition",
      size: 0x5000,
      entries: [{ namespace: "a", key: "b", type: "blob", value: pseudoRandomBytes(15_000, 5) }],
      sha256: "3669f87f1fd24ef8b7ecc50ce619c91ba6d5cda6f9ebc856bc13a739f76806ad",
    },
  ];
  for (const { name, size, entries, sha256: expected } of cases) {
    it(name, () => {
      expect(sha256(writeNvsImage(entries, { size }))).toBe(expected);
    });
  }
});

describe("corruption is detected", () => {
  const entries: NvsEntry[] = [
    { namespace: "lifelog", key: "led", type: "u8", value: 1 },
    { namespace: "lifelog", key: "name", type: "string", value: "cam-01" },
    { namespace: "lifelog", key: "big", type: "blob", value: pseudoRandomBytes(10_000, 7) },
  ];
  const image = writeNvsImage(entries, { size: 0x5000 });
  const flipped = (offset: number) => {
    const copy = image.slice();
    copy[offset] ^= 0xff;
    return copy;
  };

  it("names the failing check", () => {
    expect(() => readNvsImage(flipped(4))).toThrow("page 0: header CRC mismatch");
    expect(() => readNvsImage(flipped(0))).toThrow("page 0: invalid page state 0xffffff03");
    expect(() => readNvsImage(flipped(64 + 32 + 9))).toThrow("page 0 entry 1: entry CRC mismatch");
    expect(() => readNvsImage(flipped(64 + 3 * 32 + 2))).toThrow('page 0 entry 2 (key "name"): data CRC mismatch');
    expect(() => readNvsImage(flipped(PAGE + 64 + 32 + 100))).toThrow('page 1 entry 0 (key "big"): data CRC mismatch');
    expect(() => readNvsImage(flipped(32))).toThrow("page 0 entry 0: invalid entry state 0b01");
    expect(() => readNvsImage(image.subarray(0, 5000))).toThrow(
      "image size must be a positive multiple of 4096 bytes, got 5000",
    );
  });

  it("every single-byte flip in the checked part of page 0 is an NvsImageError", () => {
    // header, bitmap byte of entries 0..3, the three item entries and the 7 string bytes
    const offsets = [...Array(33).keys(), ...Array.from({ length: 3 * 32 + 7 }, (_, i) => 64 + i)];
    for (const offset of offsets) {
      expect(() => readNvsImage(flipped(offset)), `offset ${offset}`).toThrow(NvsImageError);
    }
  });

  it("a missing blob chunk", () => {
    const copy = image.slice();
    copy.fill(0xff, PAGE, 2 * PAGE); // erase page 1, which holds chunk 1 (the index is on page 2)
    expect(() => readNvsImage(copy)).toThrow(/blob chunk 1 is missing/);
  });
});

describe("refusals", () => {
  const write = (entry: Partial<NvsEntry>, size = 0x5000) => () =>
    writeNvsImage([{ namespace: "lifelog", key: "k", type: "u8", value: 1, ...entry } as NvsEntry], { size });

  it("partition size", () => {
    expect(write({}, 0x5001)).toThrow(new NvsImageError("size must be a positive multiple of 4096 bytes, got 20481"));
    expect(write({}, 0x2000)).toThrow(new NvsImageError("size must be at least 0x3000 bytes (3 pages), got 0x2000"));
  });

  it("names", () => {
    expect(write({ key: "sixteen_chars___" })).toThrow(
      "lifelog/sixteen_chars___: key must be 1-15 printable ASCII characters",
    );
    expect(write({ key: "" })).toThrow("lifelog/: key must be 1-15 printable ASCII characters");
    expect(write({ namespace: "namespace_16char" })).toThrow(
      'namespace "namespace_16char": must be 1-15 printable ASCII characters',
    );
  });

  it("integer values", () => {
    expect(write({ value: 256 })).toThrow("lifelog/k: u8 value 256 is out of range 0..255");
    expect(write({ type: "i8", value: -129 })).toThrow("lifelog/k: i8 value -129 is out of range -128..127");
    expect(write({ type: "u32", value: -1 })).toThrow("lifelog/k: u32 value -1 is out of range 0..4294967295");
    expect(write({ type: "u64", value: 1n << 64n })).toThrow(
      "lifelog/k: u64 value 18446744073709551616 is out of range 0..18446744073709551615",
    );
    expect(write({ type: "i64", value: -(1n << 63n) - 1n })).toThrow(
      "lifelog/k: i64 value -9223372036854775809 is out of range -9223372036854775808..9223372036854775807",
    );
    expect(write({ value: 1.5 })).toThrow("lifelog/k: u8 value must be a safe integer number or a bigint");
    expect(write({ type: "u64", value: 2 ** 60 })).toThrow("lifelog/k: u64 value must be a safe integer number or a bigint");
    expect(write({ value: "1" })).toThrow("lifelog/k: u8 value must be a safe integer number or a bigint");
    expect(write({ type: "float" as never })).toThrow('lifelog/k: unknown type "float"');
  });

  it("strings and blobs", () => {
    expect(write({ type: "string", value: "s".repeat(4000) })).toThrow(
      "lifelog/k: string is 4001 bytes including the NUL terminator; the limit is 4000",
    );
    expect(write({ type: "string", value: "a\0b" })).toThrow("lifelog/k: string must not contain NUL characters");
    expect(write({ type: "string", value: 5 })).toThrow("lifelog/k: string value must be a string");
    expect(write({ type: "blob", value: "text" })).toThrow("lifelog/k: blob value must be a Uint8Array");
    expect(write({ type: "blob", value: new Uint8Array(16_001) })).toThrow(
      "lifelog/k: blob is 16001 bytes; the limit for a 0x5000-byte partition is 16000",
    );
  });

  it("duplicates and a full partition", () => {
    expect(() =>
      writeNvsImage(
        [
          { namespace: "lifelog", key: "k", type: "u8", value: 1 },
          { namespace: "lifelog", key: "k", type: "string", value: "x" },
        ],
        { size: 0x3000 },
      ),
    ).toThrow("lifelog/k: duplicate key");

    // 0x3000 = 2 usable pages = 252 entries: the namespace entry plus 251 u8 keys fill them exactly
    const keys = (count: number) =>
      Array.from({ length: count }, (_, i): NvsEntry => ({ namespace: "n", key: `k${i}`, type: "u8", value: 0 }));
    expect(readNvsImage(writeNvsImage(keys(251), { size: 0x3000 })).entries).toHaveLength(251);
    expect(() => writeNvsImage(keys(252), { size: 0x3000 })).toThrow(
      new NvsImageError("n/k251: does not fit in a 0x3000-byte partition (2 usable pages; the last page is reserved)"),
    );
    // within the blob limit, but the namespace entry leaves one entry too few on page 0
    expect(write({ key: "b", type: "blob", value: new Uint8Array(16_000) })).toThrow(
      "lifelog/b: does not fit in a 0x5000-byte partition (4 usable pages; the last page is reserved)",
    );
  });
});
