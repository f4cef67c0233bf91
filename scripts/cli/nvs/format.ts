// ESP-IDF NVS on-flash format, version 2 (see esp-idf docs/en/api-reference/storage/nvs_flash.rst,
// "Internals"). Pure encode/decode of page headers, the entry-state bitmap and 32-byte entries.
import { nvsCrc32 } from "./crc32.ts";

export const PAGE_SIZE = 4096;
export const ENTRY_SIZE = 32;
export const ENTRIES_PER_PAGE = 126;
const HEADER_SIZE = 32;
export const BITMAP_OFFSET = 32;
export const BITMAP_SIZE = 32;
export const FIRST_ENTRY_OFFSET = 64;

export const FORMAT_VERSION_2 = 0xfe;
export const CHUNK_ANY = 0xff;
export const MAX_KEY_LENGTH = 15;
export const MAX_NAMESPACES = 254;
/** Data bytes one string or blob chunk can hold: a whole page minus its header entry. */
export const MAX_CHUNK_DATA = ENTRY_SIZE * (ENTRIES_PER_PAGE - 1);
export const MAX_STRING_BYTES = 4000;
/** Chunk indexes are split into two version ranges (0.. and 128..), so a blob has at most 127 chunks. */
export const MAX_BLOB_CHUNKS = 127;

export const PageState = {
  uninitialized: 0xffffffff,
  active: 0xfffffffe,
  full: 0xfffffffc,
  freeing: 0xfffffff8,
} as const;
export type PageStateName = keyof typeof PageState;

export const EntryState = { empty: 0b11, written: 0b10, erased: 0b00 } as const;

export const ItemType = {
  u8: 0x01,
  i8: 0x11,
  u16: 0x02,
  i16: 0x12,
  u32: 0x04,
  i32: 0x14,
  u64: 0x08,
  i64: 0x18,
  string: 0x21,
  blobV1: 0x41,
  blobData: 0x42,
  blobIndex: 0x48,
} as const;

export type IntegerType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64";
export type NvsType = IntegerType | "string" | "blob";

export interface NvsEntry {
  namespace: string;
  key: string;
  type: NvsType;
  value: number | bigint | string | Uint8Array;
}

/** The single error type of this module; messages name the offending namespace/key or page/entry. */
export class NvsImageError extends Error {
  override name = "NvsImageError";
}

export const INTEGER_LAYOUT: Record<IntegerType, { bytes: number; signed: boolean }> = {
  u8: { bytes: 1, signed: false },
  i8: { bytes: 1, signed: true },
  u16: { bytes: 2, signed: false },
  i16: { bytes: 2, signed: true },
  u32: { bytes: 4, signed: false },
  i32: { bytes: 4, signed: true },
  u64: { bytes: 8, signed: false },
  i64: { bytes: 8, signed: true },
};

export function integerRange(type: IntegerType): { min: bigint; max: bigint } {
  const { bytes, signed } = INTEGER_LAYOUT[type];
  const bits = BigInt(bytes * 8);
  return signed
    ? { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n }
    : { min: 0n, max: (1n << bits) - 1n };
}

// ---- page header: state(4) seq(4) version(1) unused(19, 0xFF) crc32(4) over bytes 4..27 ----

export interface PageHeader {
  state: number;
  sequence: number;
  version: number;
}

export function encodePageHeader(header: PageHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE).fill(0xff);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, header.state, true);
  view.setUint32(4, header.sequence, true);
  bytes[8] = header.version;
  view.setUint32(28, nvsCrc32(bytes.subarray(4, 28)), true);
  return bytes;
}

export function decodePageHeader(bytes: Uint8Array): PageHeader & { crcValid: boolean } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  return {
    state: view.getUint32(0, true),
    sequence: view.getUint32(4, true),
    version: bytes[8],
    crcValid: view.getUint32(28, true) === nvsCrc32(bytes.subarray(4, 28)),
  };
}

// ---- entry-state bitmap: 2 bits per entry, entry i in bits 2i..2i+1 (little-endian bit order) ----

export function getEntryState(bitmap: Uint8Array, index: number): number {
  const bit = index * 2;
  return (bitmap[bit >> 3] >> (bit & 7)) & 0b11;
}

export function setEntryState(bitmap: Uint8Array, index: number, state: number): void {
  const bit = index * 2;
  bitmap[bit >> 3] = (bitmap[bit >> 3] & ~(0b11 << (bit & 7))) | (state << (bit & 7));
}

// ---- entry: ns(1) type(1) span(1) chunkIndex(1) crc32(4) key(16) data(8) ----

export interface EntryHeader {
  namespaceIndex: number;
  type: number;
  span: number;
  chunkIndex: number;
  key: string;
  /** The 8-byte data field; its meaning depends on the type. */
  data: Uint8Array;
}

export function encodeEntry(entry: EntryHeader): Uint8Array {
  const bytes = new Uint8Array(ENTRY_SIZE);
  bytes.set([entry.namespaceIndex, entry.type, entry.span, entry.chunkIndex], 0);
  bytes.set(new TextEncoder().encode(entry.key), 8); // rest of the 16-byte key field stays 0
  bytes.set(entry.data, 24);
  new DataView(bytes.buffer).setUint32(4, entryCrc(bytes), true);
  return bytes;
}

export function decodeEntry(bytes: Uint8Array): EntryHeader & { crcValid: boolean; keyTerminated: boolean } {
  const keyField = bytes.subarray(8, 24);
  const keyLength = keyField.indexOf(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, ENTRY_SIZE);
  return {
    namespaceIndex: bytes[0],
    type: bytes[1],
    span: bytes[2],
    chunkIndex: bytes[3],
    key: new TextDecoder().decode(keyField.subarray(0, keyLength < 0 ? 16 : keyLength)),
    data: bytes.slice(24, 32),
    crcValid: view.getUint32(4, true) === entryCrc(bytes),
    keyTerminated: keyLength >= 0,
  };
}

/** The entry CRC covers all 32 bytes except the CRC field itself (bytes 4..7). */
function entryCrc(entry: Uint8Array): number {
  return nvsCrc32(entry.subarray(0, 4), entry.subarray(8, 32));
}

// ---- data field layouts ----

/** Integers are little-endian, padded to 8 bytes with 0xFF. */
export function encodeIntegerData(type: IntegerType, value: bigint): Uint8Array {
  const data = new Uint8Array(8).fill(0xff);
  const { bytes } = INTEGER_LAYOUT[type];
  let unsigned = BigInt.asUintN(bytes * 8, value);
  for (let i = 0; i < bytes; i++, unsigned >>= 8n) data[i] = Number(unsigned & 0xffn);
  return data;
}

export function decodeIntegerData(type: IntegerType, data: Uint8Array): bigint {
  const { bytes, signed } = INTEGER_LAYOUT[type];
  let value = 0n;
  for (let i = bytes - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]);
  return signed ? BigInt.asIntN(bytes * 8, value) : value;
}

/** Strings and blob chunks: size(2) reserved(2, 0xFF) crc32(4) of the payload bytes. */
export function encodeVarLengthData(payload: Uint8Array): Uint8Array {
  const data = new Uint8Array(8).fill(0xff);
  const view = new DataView(data.buffer);
  view.setUint16(0, payload.length, true);
  view.setUint32(4, nvsCrc32(payload), true);
  return data;
}

export function decodeVarLengthData(data: Uint8Array): { size: number; crc: number } {
  const view = new DataView(data.buffer, data.byteOffset, 8);
  return { size: view.getUint16(0, true), crc: view.getUint32(4, true) };
}

/** Blob index: total size(4) chunkCount(1) chunkStart(1) reserved(2, 0xFF). */
export function encodeBlobIndexData(size: number, chunkCount: number, chunkStart: number): Uint8Array {
  const data = new Uint8Array(8).fill(0xff);
  new DataView(data.buffer).setUint32(0, size, true);
  data[4] = chunkCount;
  data[5] = chunkStart;
  return data;
}

export function decodeBlobIndexData(data: Uint8Array): { size: number; chunkCount: number; chunkStart: number } {
  const view = new DataView(data.buffer, data.byteOffset, 8);
  return { size: view.getUint32(0, true), chunkCount: data[4], chunkStart: data[5] };
}

/** Entries a string or blob chunk occupies: one header entry plus its payload in 32-byte entries. */
export function spanFor(payloadBytes: number): number {
  return 1 + Math.ceil(payloadBytes / ENTRY_SIZE);
}

export function formatHex(value: number): string {
  return `0x${value.toString(16)}`;
}
