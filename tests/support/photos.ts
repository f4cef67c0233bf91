// Photos into the stack the way a camera sends them: upload-url, PUT, ingest.
import { deviceHeaders, ingestBody, post, uploadPhoto } from "./stack.ts";

export async function ingestPhoto(token: string, seq: number, jpeg: Uint8Array, capturedAt: Date): Promise<string> {
  const target = await uploadPhoto(token, seq, new Uint8Array(jpeg));
  const r = await post<{ item_id: string }>("ingest", ingestBody(target.object_key, seq, { captured_at: capturedAt.toISOString() }),
    deviceHeaders(token));
  if (r.status !== 201) throw new Error(`ingest failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.item_id;
}

/** A real JPEG whose frame header (SOF) claims width x height: a decompression bomb when large. */
export function withClaimedSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(jpeg);
  for (let i = 2; i + 9 < out.length;) {
    if (out[i] !== 0xff) throw new Error("not a marker");
    const marker = out[i + 1];
    const length = (out[i + 2] << 8) | out[i + 3];
    if (marker >= 0xc0 && marker <= 0xc3) {
      out.set([height >> 8, height & 0xff, width >> 8, width & 0xff], i + 5);
      return out;
    }
    i += 2 + length;
  }
  throw new Error("no SOF marker");
}
