// The owner's photo routes (GET /devices/photos, POST /devices/photos/<id>/pin,
// GET/POST /devices/retention) for the photos, pin and retention commands.
import { requestJson } from "./api.ts";
import type { Values } from "./command.ts";
import { CliError, ExitCode } from "./errors.ts";
import { refusal, signedInApi } from "./devices-api.ts";

export interface PhotoView {
  item_id: string;
  device_id: string | null;
  seq: number | null;
  captured_at: string;
  status: "pending" | "processed" | "failed";
  width: number | null;
  height: number | null;
  thumbnail_url: string | null;
  preview_url: string | null;
  urls_expire_at: string | null;
  flags: { dark: boolean; blurry: boolean; duplicate: boolean };
  hidden: boolean;
  pinned: boolean;
  moment_id: string | null;
  original_kept: boolean;
}

export interface RetentionPolicy {
  originals_days: number;
  hidden_grace_days: number;
  quota_bytes: number | null;
}

export interface PhotoQuery {
  from: string;
  to: string;
  deviceId?: string;
  includeHidden: boolean;
}

export async function photosClient(values: Values, env: NodeJS.ProcessEnv) {
  const { apiBase, auth } = await signedInApi(values, env);
  const photoRefusal = (r: Awaited<ReturnType<typeof requestJson>>, what: string) => {
    if (r.status === 404 && (r.body as { error?: { code?: string } })?.error?.code === "photo_not_found") {
      return new CliError("that photo is not in your account (its id is the full item_id `photos --json` shows)", ExitCode.failure);
    }
    return refusal(r, what);
  };
  return {
    /** Every page of the range. */
    async list(q: PhotoQuery): Promise<PhotoView[]> {
      const out: PhotoView[] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ from: q.from, to: q.to, include_hidden: String(q.includeHidden), limit: "500" });
        if (q.deviceId) params.set("device_id", q.deviceId);
        if (cursor) params.set("cursor", cursor);
        const r = await requestJson("GET", `${apiBase}/devices/photos?${params}`, undefined, auth);
        if (r.status !== 200) throw refusal(r, "listing photos");
        const body = r.body as { photos: PhotoView[]; next_cursor: string | null };
        out.push(...body.photos);
        cursor = body.next_cursor;
      } while (cursor);
      return out;
    },
    async pin(itemId: string, pinned: boolean): Promise<PhotoView> {
      const r = await requestJson("POST", `${apiBase}/devices/photos/${encodeURIComponent(itemId)}/pin`, { pinned }, auth);
      if (r.status !== 200) throw photoRefusal(r, pinned ? "pinning" : "unpinning");
      return (r.body as { photo: PhotoView }).photo;
    },
    async retention(change?: Partial<RetentionPolicy>): Promise<RetentionPolicy> {
      const r = change
        ? await requestJson("POST", `${apiBase}/devices/retention`, change, auth)
        : await requestJson("GET", `${apiBase}/devices/retention`, undefined, auth);
      if (r.status !== 200) throw refusal(r, change ? "changing the retention policy" : "reading the retention policy");
      return (r.body as { policy: RetentionPolicy }).policy;
    },
  };
}
