// Input checks for writeNvsImage: every refusal is an NvsImageError naming the namespace/key.
import {
  type IntegerType,
  INTEGER_LAYOUT,
  integerRange,
  MAX_BLOB_CHUNKS,
  MAX_CHUNK_DATA,
  MAX_KEY_LENGTH,
  MAX_STRING_BYTES,
  type NvsEntry,
  NvsImageError,
  PAGE_SIZE,
  formatHex,
} from "./format.ts";

export type ValidItem =
  | { namespace: string; key: string; kind: "integer"; type: IntegerType; value: bigint }
  | { namespace: string; key: string; kind: "string" | "blob"; payload: Uint8Array };

/** Returns the number of pages in the partition. */
export function validatePartitionSize(size: number): number {
  if (!Number.isInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
    throw new NvsImageError(`size must be a positive multiple of 4096 bytes, got ${size}`);
  }
  if (size < 3 * PAGE_SIZE) {
    throw new NvsImageError(`size must be at least 0x3000 bytes (3 pages), got ${formatHex(size)}`);
  }
  return size / PAGE_SIZE;
}

/** The limit nvs_set_blob enforces on the chip: one chunk per page, all pages but one, at most 127 chunks. */
function maxBlobBytes(pageCount: number): number {
  return Math.min(pageCount - 1, MAX_BLOB_CHUNKS) * MAX_CHUNK_DATA;
}

export function validateEntries(entries: readonly NvsEntry[], pageCount: number): ValidItem[] {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const item = validateEntry(entry, pageCount);
    const id = `${item.namespace}/${item.key}`;
    if (seen.has(id)) throw new NvsImageError(`${id}: duplicate key`);
    seen.add(id);
    return item;
  });
}

function validateEntry(entry: NvsEntry, pageCount: number): ValidItem {
  const { namespace, key, type, value } = entry;
  if (!isValidName(namespace)) {
    throw new NvsImageError(`namespace "${namespace}": must be 1-${MAX_KEY_LENGTH} printable ASCII characters`);
  }
  const label = `${namespace}/${key}`;
  if (!isValidName(key)) {
    throw new NvsImageError(`${label}: key must be 1-${MAX_KEY_LENGTH} printable ASCII characters`);
  }

  if (type === "string") {
    if (typeof value !== "string") throw new NvsImageError(`${label}: string value must be a string`);
    if (value.includes("\0")) throw new NvsImageError(`${label}: string must not contain NUL characters`);
    const payload = new TextEncoder().encode(`${value}\0`);
    if (payload.length > MAX_STRING_BYTES) {
      throw new NvsImageError(
        `${label}: string is ${payload.length} bytes including the NUL terminator; the limit is ${MAX_STRING_BYTES}`,
      );
    }
    return { namespace, key, kind: "string", payload };
  }

  if (type === "blob") {
    if (!(value instanceof Uint8Array)) throw new NvsImageError(`${label}: blob value must be a Uint8Array`);
    const limit = maxBlobBytes(pageCount);
    if (value.length > limit) {
      throw new NvsImageError(
        `${label}: blob is ${value.length} bytes; the limit for a ${formatHex(pageCount * PAGE_SIZE)}-byte partition is ${limit}`,
      );
    }
    return { namespace, key, kind: "blob", payload: value };
  }

  if (!(type in INTEGER_LAYOUT)) throw new NvsImageError(`${label}: unknown type "${type}"`);
  const integer = toBigInt(value);
  if (integer === undefined) {
    throw new NvsImageError(`${label}: ${type} value must be a safe integer number or a bigint`);
  }
  const { min, max } = integerRange(type);
  if (integer < min || integer > max) {
    throw new NvsImageError(`${label}: ${type} value ${integer} is out of range ${min}..${max}`);
  }
  return { namespace, key, kind: "integer", type, value: integer };
}

function isValidName(name: unknown): name is string {
  return typeof name === "string" && name.length <= MAX_KEY_LENGTH && /^[\x20-\x7e]+$/.test(name);
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  return undefined;
}
