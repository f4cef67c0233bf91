// A stand-in Supabase project for the Photos page while the photo routes are built elsewhere:
// it answers exactly the owner photo API contract (GET /devices/photos with cursor pages,
// POST /devices/photos/<id>/pin), a password grant and GET /devices, and serves real JPEG
// thumbnails behind short-lived URLs. Mocked because those routes do not exist on this branch.
import { createServer } from "node:http";
import jpeg from "jpeg-js";
import { listenLocal } from "../../scripts/stack/http-server.ts";
import { freePort } from "../../scripts/stack/ports.ts";

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
export const FIXTURE_DEVICE = "7d0c3b8e-2f4e-4f1a-9a57-3c2f1d9e0a11";
export const URL_TTL_S = 600;

function thumbnail(): Buffer {
  const width = 64, height = 64;
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([(i % width) * 4, (i / width) * 4, 160, 255], i * 4);
  return jpeg.encode({ data, width, height }, 80).data;
}

export async function startPhotoFixture(dayStart: Date, photosInDay = 2880) {
  const jpegBytes = thumbnail();
  const pinned = new Set<string>();
  const requests: string[] = [];
  let origin = "";
  const photo = (i: number) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const flags = { dark: i % 40 === 7, blurry: i % 97 === 3, duplicate: false };
    const isPinned = pinned.has(id);
    const expires = new Date(Date.now() + URL_TTL_S * 1000).toISOString();
    return {
      item_id: id, device_id: FIXTURE_DEVICE, seq: i + 1, captured_at: new Date(dayStart.getTime() + i * 30_000).toISOString(),
      size_bytes: 40_000, status: "processed", width: 1600, height: 1200,
      thumbnail_url: `${origin}/thumb/${id}.jpg?expires=${encodeURIComponent(expires)}`,
      preview_url: `${origin}/thumb/${id}.jpg?preview=1&expires=${encodeURIComponent(expires)}`, urls_expire_at: expires,
      flags, hidden: (flags.dark || flags.blurry) && !isPinned, pinned: isPinned,
      moment_id: `moment-${Math.floor(i / 120)}`, original_kept: true,
    };
  };
  const all = Array.from({ length: photosInDay }, (_, i) => i);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${req.method} ${url.pathname}`);
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-headers", "authorization, x-client-info, apikey, content-type, x-supabase-api-version");
    const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method === "OPTIONS") return res.writeHead(204).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    if (url.pathname === "/auth/v1/token") {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const user = { id: "11111111-1111-4111-8111-111111111111", aud: "authenticated", role: "authenticated", email: "owner@fixture.local" };
      return json(200, { access_token: `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: user.id, exp, role: "authenticated" })}.x`,
        token_type: "bearer", expires_in: 3600, expires_at: exp, refresh_token: "fixture-refresh", user });
    }
    if (url.pathname === "/functions/v1/devices") {
      return json(200, { devices: [{ id: FIXTURE_DEVICE, name: "Fixture camera", created_at: dayStart.toISOString(), activated_at: dayStart.toISOString(),
        last_seen_at: new Date().toISOString(), revoked_at: null, firmware_version: "0.4.0",
        settings: { paused: false, capture_interval_s: null, updated_at: null }, status: null, items: { today: photosInDay, total: photosInDay } }] });
    }
    if (url.pathname === "/functions/v1/devices/photos") {
      const from = Date.parse(url.searchParams.get("from") ?? "");
      const to = Date.parse(url.searchParams.get("to") ?? "");
      const limit = Number(url.searchParams.get("limit") ?? 200);
      if (!(from <= to) || !(limit >= 1 && limit <= 500)) return json(400, { error: { code: "invalid_request", message: "Bad range or limit." } });
      const includeHidden = url.searchParams.get("include_hidden") === "true";
      const start = Number(url.searchParams.get("cursor") ?? 0);
      const matching = all.map(photo).filter((p) => Date.parse(p.captured_at) >= from && Date.parse(p.captured_at) < to && (includeHidden || !p.hidden));
      const page = matching.slice(start, start + limit);
      return json(200, { photos: page, next_cursor: start + limit < matching.length ? String(start + limit) : null });
    }
    const pin = /^\/functions\/v1\/devices\/photos\/([^/]+)\/pin$/.exec(url.pathname);
    if (pin && req.method === "POST") {
      const i = all.find((n) => photo(n).item_id === pin[1]);
      if (i === undefined) return json(404, { error: { code: "photo_not_found", message: "You have no photo with this id." } });
      let wanted: unknown;
      try { wanted = (JSON.parse(body) as { pinned?: unknown }).pinned; } catch { wanted = undefined; }
      if (typeof wanted !== "boolean") return json(400, { error: { code: "invalid_request", message: "pinned: expected a boolean" } });
      if (wanted) pinned.add(pin[1]); else pinned.delete(pin[1]);
      return json(200, { photo: photo(i) });
    }
    if (url.pathname.startsWith("/thumb/")) {
      if (Date.parse(url.searchParams.get("expires") ?? "") < Date.now()) return res.writeHead(403).end();
      return res.writeHead(200, { "content-type": "image/jpeg" }).end(jpegBytes);
    }
    json(404, { error: { code: "not_found", message: "No such path on the fixture." } });
  });
  const handle = await listenLocal(server, await freePort());
  origin = handle.url;
  return { ...handle, requests, pinned };
}
