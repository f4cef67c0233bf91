// Reads an NVS v2 partition image back into entries, verifying every CRC (page header, entry, data).
import {
  BITMAP_OFFSET,
  BITMAP_SIZE,
  CHUNK_ANY,
  ENTRIES_PER_PAGE,
  ENTRY_SIZE,
  EntryState,
  FIRST_ENTRY_OFFSET,
  FORMAT_VERSION_2,
  type IntegerType,
  INTEGER_LAYOUT,
  ItemType,
  type NvsEntry,
  NvsImageError,
  PAGE_SIZE,
  PageState,
  type PageStateName,
  decodeBlobIndexData,
  decodeEntry,
  decodeIntegerData,
  decodePageHeader,
  decodeVarLengthData,
  formatHex,
  getEntryState,
  spanFor,
} from "./format.ts";
import { nvsCrc32 } from "./crc32.ts";

export interface PageInfo {
  index: number;
  state: PageStateName;
  /** null for an erased (uninitialized) page, which has no header. */
  sequence: number | null;
  version: number | null;
  writtenEntries: number;
  erasedEntries: number;
}

export interface NvsImageContents {
  /** In storage order; u64/i64 values are bigint, other integers number. Namespaces are implied. */
  entries: NvsEntry[];
  pages: PageInfo[];
}

/** One decoded item before namespaces are resolved and blob chunks are joined. */
type RawItem =
  | { where: string; ns: number; key: string; kind: "integer"; type: IntegerType; value: bigint }
  | { where: string; ns: number; key: string; kind: "string"; value: string }
  | { where: string; ns: number; key: string; kind: "blobData"; chunkIndex: number; payload: Uint8Array }
  | { where: string; ns: number; key: string; kind: "blobIndex"; size: number; chunkCount: number; chunkStart: number };

const INTEGER_TYPE_BY_CODE = new Map(
  (Object.keys(INTEGER_LAYOUT) as IntegerType[]).map((type) => [ItemType[type] as number, type]),
);

export function readNvsImage(bytes: Uint8Array): NvsImageContents {
  if (bytes.length === 0 || bytes.length % PAGE_SIZE !== 0) {
    throw new NvsImageError(`image size must be a positive multiple of 4096 bytes, got ${bytes.length}`);
  }
  const pages: PageInfo[] = [];
  const itemsByPage: RawItem[][] = [];
  for (let index = 0; index < bytes.length / PAGE_SIZE; index++) {
    const items: RawItem[] = [];
    pages.push(readPage(bytes.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE), index, items));
    itemsByPage.push(items);
  }
  // Logical order is by sequence number; erased pages hold nothing.
  const order = pages.filter((page) => page.sequence !== null).sort((a, b) => a.sequence! - b.sequence!);
  const items = order.flatMap((page) => itemsByPage[page.index]);
  return { entries: resolveItems(items), pages };
}

function readPage(page: Uint8Array, index: number, items: RawItem[]): PageInfo {
  const info: PageInfo = { index, state: "uninitialized", sequence: null, version: null, writtenEntries: 0, erasedEntries: 0 };
  if (page.every((byte) => byte === 0xff)) return info;

  const header = decodePageHeader(page);
  const state = (Object.keys(PageState) as PageStateName[]).find((name) => PageState[name] === header.state);
  if (state === undefined || state === "uninitialized") {
    throw new NvsImageError(`page ${index}: invalid page state ${formatHex(header.state)}`);
  }
  if (!header.crcValid) throw new NvsImageError(`page ${index}: header CRC mismatch`);
  if (header.version !== FORMAT_VERSION_2) {
    throw new NvsImageError(`page ${index}: unsupported format version ${formatHex(header.version)} (expected 0xfe, v2)`);
  }
  Object.assign(info, { state, sequence: header.sequence, version: header.version });

  const bitmap = page.subarray(BITMAP_OFFSET, BITMAP_OFFSET + BITMAP_SIZE);
  let entry = 0;
  while (entry < ENTRIES_PER_PAGE) {
    const entryState = getEntryState(bitmap, entry);
    if (entryState === EntryState.empty) {
      entry++;
    } else if (entryState === EntryState.erased) {
      info.erasedEntries++;
      entry++;
    } else if (entryState === EntryState.written) {
      const span = readItem(page, bitmap, `page ${index} entry ${entry}`, entry, items);
      info.writtenEntries += span;
      entry += span;
    } else {
      throw new NvsImageError(`page ${index} entry ${entry}: invalid entry state 0b01`);
    }
  }
  return info;
}

/** Decodes the item starting at `entry`, returns its span. */
function readItem(page: Uint8Array, bitmap: Uint8Array, at: string, entry: number, items: RawItem[]): number {
  const offset = FIRST_ENTRY_OFFSET + entry * ENTRY_SIZE;
  const decoded = decodeEntry(page.subarray(offset, offset + ENTRY_SIZE));
  if (!decoded.crcValid) throw new NvsImageError(`${at}: entry CRC mismatch`);
  if (!decoded.keyTerminated) throw new NvsImageError(`${at}: key is not NUL-terminated`);
  const { namespaceIndex: ns, key, type, span, chunkIndex, data } = decoded;
  const where = `${at} (key "${key}")`;

  const integerType = INTEGER_TYPE_BY_CODE.get(type);
  if (integerType !== undefined || type === ItemType.blobIndex) {
    if (span !== 1) throw new NvsImageError(`${where}: span ${span} should be 1`);
    if (integerType !== undefined) {
      items.push({ where, ns, key, kind: "integer", type: integerType, value: decodeIntegerData(integerType, data) });
    } else {
      if (chunkIndex !== CHUNK_ANY) throw new NvsImageError(`${where}: blob index has chunk index ${chunkIndex}`);
      items.push({ where, ns, key, kind: "blobIndex", ...decodeBlobIndexData(data) });
    }
    return 1;
  }
  if (type !== ItemType.string && type !== ItemType.blobData) {
    const v1 = type === ItemType.blobV1 ? " (v1 blob, not supported)" : "";
    throw new NvsImageError(`${where}: unknown item type ${formatHex(type)}${v1}`);
  }

  const { size, crc } = decodeVarLengthData(data);
  if (span !== spanFor(size) || entry + span > ENTRIES_PER_PAGE) {
    throw new NvsImageError(`${where}: span ${span} does not match data size ${size} within the page`);
  }
  for (let i = 1; i < span; i++) {
    if (getEntryState(bitmap, entry + i) !== EntryState.written) {
      throw new NvsImageError(`${where}: data entry ${entry + i} is not marked written`);
    }
  }
  const payloadStart = FIRST_ENTRY_OFFSET + (entry + 1) * ENTRY_SIZE;
  const payload = page.slice(payloadStart, payloadStart + size);
  if (nvsCrc32(payload) !== crc) throw new NvsImageError(`${where}: data CRC mismatch`);

  if (type === ItemType.string) {
    if (payload[size - 1] !== 0) throw new NvsImageError(`${where}: string is not NUL-terminated`);
    items.push({ where, ns, key, kind: "string", value: new TextDecoder().decode(payload.subarray(0, size - 1)) });
  } else {
    if (chunkIndex === CHUNK_ANY) throw new NvsImageError(`${where}: blob data has no chunk index`);
    items.push({ where, ns, key, kind: "blobData", chunkIndex, payload });
  }
  return span;
}

/** Maps namespace indexes to names and joins blob chunks listed by each blob index entry. */
function resolveItems(items: RawItem[]): NvsEntry[] {
  const namespaces = new Map<number, string>();
  const chunks = new Map<string, RawItem & { kind: "blobData" }>();
  const chunkId = (ns: number, key: string, chunkIndex: number) => `${ns}/${key}/${chunkIndex}`;
  for (const item of items) {
    if (item.ns === 0) {
      if (item.kind !== "integer" || item.type !== "u8") {
        throw new NvsImageError(`${item.where}: namespace 0 holds only u8 namespace entries`);
      }
      namespaces.set(Number(item.value), item.key);
    } else if (item.kind === "blobData") {
      chunks.set(chunkId(item.ns, item.key, item.chunkIndex), item);
    }
  }

  const entries: NvsEntry[] = [];
  for (const item of items) {
    if (item.ns === 0 || item.kind === "blobData") continue;
    const namespace = namespaces.get(item.ns);
    if (namespace === undefined) throw new NvsImageError(`${item.where}: namespace index ${item.ns} is not defined`);
    const { key } = item;
    if (item.kind === "integer") {
      const value = INTEGER_LAYOUT[item.type].bytes === 8 ? item.value : Number(item.value);
      entries.push({ namespace, key, type: item.type, value });
    } else if (item.kind === "string") {
      entries.push({ namespace, key, type: "string", value: item.value });
    } else {
      const parts: Uint8Array[] = [];
      for (let i = item.chunkStart; i < item.chunkStart + item.chunkCount; i++) {
        const chunk = chunks.get(chunkId(item.ns, key, i));
        if (chunk === undefined) throw new NvsImageError(`${item.where}: blob chunk ${i} is missing`);
        chunks.delete(chunkId(item.ns, key, i));
        parts.push(chunk.payload);
      }
      const value = concat(parts);
      if (value.length !== item.size) {
        throw new NvsImageError(`${item.where}: blob chunks hold ${value.length} bytes, index says ${item.size}`);
      }
      entries.push({ namespace, key, type: "blob", value });
    }
  }
  const orphan = chunks.values().next().value;
  if (orphan !== undefined) throw new NvsImageError(`${orphan.where}: blob chunk ${orphan.chunkIndex} has no blob index`);
  return entries;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
