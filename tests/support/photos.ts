// Photos into the stack the way a camera sends them: upload-url, PUT, ingest.
import { deviceHeaders, ingestBody, post, uploadPhoto, uploadUrlBody, type UploadTargetBody } from "./stack.ts";

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

type BatchResults<T> = { results: { status: number; body: T }[] };

/** Many photos in batches of 32 (upload-urls, PUTs, ingest-batch), as a draining camera sends them. */
export async function ingestPhotos(token: string, photos: { seq: number; jpeg: Uint8Array; capturedAt: Date }[]): Promise<string[]> {
  const ids: string[] = [];
  for (let at = 0; at < photos.length; at += 32) {
    const window = photos.slice(at, at + 32);
    const targets = await post<BatchResults<UploadTargetBody>>("upload-urls",
      { items: window.map((p) => uploadUrlBody(p.seq)) }, deviceHeaders(token));
    if (targets.status !== 200) throw new Error(`upload-urls failed: ${targets.status} ${JSON.stringify(targets.body)}`);
    await Promise.all(window.map(async (p, k) => {
      const t = targets.body.results[k].body;
      const put = await fetch(t.upload_url, { method: "PUT", headers: t.upload_headers, body: new Uint8Array(p.jpeg) });
      await put.body?.cancel();
      if (put.status !== 200) throw new Error(`PUT failed: ${put.status}`);
    }));
    const ingested = await post<BatchResults<{ item_id: string }>>("ingest-batch", {
      items: window.map((p, k) => ingestBody(targets.body.results[k].body.object_key, p.seq, { captured_at: p.capturedAt.toISOString() })),
    }, deviceHeaders(token));
    if (ingested.status !== 200 || ingested.body.results.some((r) => r.status !== 201)) {
      throw new Error(`ingest-batch failed: ${ingested.status} ${JSON.stringify(ingested.body).slice(0, 500)}`);
    }
    ids.push(...ingested.body.results.map((r) => r.body.item_id));
  }
  return ids;
}
