// Builds an NVS v2 partition image laid out the way esp-idf's nvs_partition_gen.py lays it out:
// items fill pages in order, a page that is left behind is marked FULL, the last written page stays
// ACTIVE, later pages stay erased (0xFF) and the final page is always kept free for garbage collection.
import {
  BITMAP_OFFSET,
  CHUNK_ANY,
  ENTRIES_PER_PAGE,
  ENTRY_SIZE,
  EntryState,
  FIRST_ENTRY_OFFSET,
  FORMAT_VERSION_2,
  ItemType,
  MAX_BLOB_CHUNKS,
  MAX_NAMESPACES,
  type NvsEntry,
  NvsImageError,
  PAGE_SIZE,
  PageState,
  encodeBlobIndexData,
  encodeEntry,
  encodeIntegerData,
  encodePageHeader,
  encodeVarLengthData,
  formatHex,
  setEntryState,
  spanFor,
} from "./format.ts";
import { type ValidItem, validateEntries, validatePartitionSize } from "./validate.ts";

export interface NvsImageOptions {
  /** Partition size in bytes, e.g. 0x5000 for the Arduino-ESP32 default 8 MB table. */
  size: number;
}

export function writeNvsImage(entries: readonly NvsEntry[], options: NvsImageOptions): Uint8Array {
  const pageCount = validatePartitionSize(options.size);
  const items = validateEntries(entries, pageCount);
  const image = new ImageBuilder(pageCount);
  const namespaceIndexes = new Map<string, number>();

  for (const item of items) {
    let namespaceIndex = namespaceIndexes.get(item.namespace);
    if (namespaceIndex === undefined) {
      namespaceIndex = namespaceIndexes.size + 1;
      if (namespaceIndex > MAX_NAMESPACES) {
        throw new NvsImageError(`namespace "${item.namespace}": more than ${MAX_NAMESPACES} namespaces`);
      }
      namespaceIndexes.set(item.namespace, namespaceIndex);
      // Namespaces are U8 entries in namespace 0: key = name, value = index.
      image.label = `namespace "${item.namespace}"`;
      image.writeSingleEntry(0, ItemType.u8, item.namespace, encodeIntegerData("u8", BigInt(namespaceIndex)));
    }
    image.label = `${item.namespace}/${item.key}`;
    writeItem(image, namespaceIndex, item);
  }
  return image.bytes;
}

function writeItem(image: ImageBuilder, namespaceIndex: number, item: ValidItem): void {
  switch (item.kind) {
    case "integer":
      return image.writeSingleEntry(namespaceIndex, ItemType[item.type], item.key, encodeIntegerData(item.type, item.value));
    case "string":
      return image.writeString(namespaceIndex, item.key, item.payload);
    case "blob":
      return image.writeBlob(namespaceIndex, item.key, item.payload);
  }
}

class ImageBuilder {
  readonly bytes: Uint8Array;
  /** Names the item being written, for the "does not fit" error. */
  label = "";
  private page = 0;
  private nextEntry = 0;

  constructor(private readonly pageCount: number) {
    this.bytes = new Uint8Array(pageCount * PAGE_SIZE).fill(0xff);
    this.initPage();
  }

  writeSingleEntry(namespaceIndex: number, type: number, key: string, data: Uint8Array): void {
    if (this.freeEntries() < 1) this.nextPage();
    this.append(encodeEntry({ namespaceIndex, type, span: 1, chunkIndex: CHUNK_ANY, key, data }));
  }

  /** A string never crosses a page boundary: header entry plus its payload entries, contiguous. */
  writeString(namespaceIndex: number, key: string, payload: Uint8Array): void {
    const span = spanFor(payload.length);
    // nvs_partition_gen.py never lets a string end on a page's last entry; we match it for identical
    // output, except that a 4000-byte string may fill a whole empty page (the generator fails there).
    const fits = this.nextEntry + span < ENTRIES_PER_PAGE || (this.nextEntry === 0 && span === ENTRIES_PER_PAGE);
    if (!fits) this.nextPage();
    const data = encodeVarLengthData(payload);
    this.append(encodeEntry({ namespaceIndex, type: ItemType.string, span, chunkIndex: CHUNK_ANY, key, data }), payload);
  }

  /** v2 blob: data chunks (chunk index 0, 1, ...) filling each page's tailroom, then one blob index entry. */
  writeBlob(namespaceIndex: number, key: string, payload: Uint8Array): void {
    // A chunk needs its header entry plus room for data (the generator would write an empty chunk here).
    if (this.freeEntries() < 2) this.nextPage();
    let offset = 0;
    let chunkCount = 0;
    do {
      if (chunkCount === MAX_BLOB_CHUNKS) throw new NvsImageError(`${this.label}: blob needs more than 127 chunks`);
      const tailroom = (this.freeEntries() - 1) * ENTRY_SIZE;
      const chunk = payload.subarray(offset, offset + tailroom);
      const header = encodeEntry({
        namespaceIndex,
        type: ItemType.blobData,
        span: spanFor(chunk.length),
        chunkIndex: chunkCount,
        key,
        data: encodeVarLengthData(chunk),
      });
      this.append(header, chunk);
      offset += chunk.length;
      chunkCount++;
      if (offset < payload.length || this.freeEntries() === 0) this.nextPage();
    } while (offset < payload.length);

    const data = encodeBlobIndexData(payload.length, chunkCount, 0);
    this.append(encodeEntry({ namespaceIndex, type: ItemType.blobIndex, span: 1, chunkIndex: CHUNK_ANY, key, data }));
  }

  private freeEntries(): number {
    return ENTRIES_PER_PAGE - this.nextEntry;
  }

  /** Writes a header entry and the payload in the entries after it, marking each entry written. */
  private append(header: Uint8Array, payload: Uint8Array = new Uint8Array(0)): void {
    const span = spanFor(payload.length);
    const start = this.page * PAGE_SIZE + FIRST_ENTRY_OFFSET + this.nextEntry * ENTRY_SIZE;
    this.bytes.set(header, start);
    this.bytes.set(payload, start + ENTRY_SIZE); // padding of the last payload entry stays 0xFF
    const bitmap = this.bytes.subarray(this.page * PAGE_SIZE + BITMAP_OFFSET);
    for (let i = 0; i < span; i++) setEntryState(bitmap, this.nextEntry + i, EntryState.written);
    this.nextEntry += span;
  }

  private nextPage(): void {
    // The state is outside the header CRC, so marking FULL only rewrites the first 4 bytes.
    new DataView(this.bytes.buffer).setUint32(this.page * PAGE_SIZE, PageState.full, true);
    if (this.page + 1 >= this.pageCount - 1) {
      throw new NvsImageError(
        `${this.label}: does not fit in a ${formatHex(this.pageCount * PAGE_SIZE)}-byte partition ` +
          `(${this.pageCount - 1} usable pages; the last page is reserved)`,
      );
    }
    this.page++;
    this.nextEntry = 0;
    this.initPage();
  }

  private initPage(): void {
    const header = encodePageHeader({ state: PageState.active, sequence: this.page, version: FORMAT_VERSION_2 });
    this.bytes.set(header, this.page * PAGE_SIZE);
  }
}
