// Photos: one day's timeline per camera, grouped into moments. Pages of the list are fetched one
// after another; only the rows near the viewport exist in the DOM, so a day of 2,880 stays smooth.
import type { Photo } from "../api.ts";
import type { PageContext } from "../app-context.ts";
import { h } from "../dom.ts";
import { exactTime } from "../format.ts";
import { groupMoments, layoutRows, type Row, visibleRows } from "../timeline.ts";

const HEADER_PX = 40;
const MIN_TILE_PX = 110;
const OVERSCAN_PX = 400;

function dayRange(day: string): { from: string; to: string } {
  const from = new Date(`${day}T00:00:00`);
  const to = new Date(from.getTime() + 86_400_000);
  return { from: from.toISOString(), to: to.toISOString() };
}

function timeOf(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function photosPage(root: HTMLElement, ctx: PageContext): void {
  const today = new Date();
  const dayValue = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
  const day = h("input", { type: "date", id: "photos-day", value: dayValue });
  const camera = h("select", { id: "photos-camera" }, h("option", { value: "" }, "All cameras"));
  const hidden = h("input", { type: "checkbox", id: "photos-hidden" });
  const summary = h("p", { id: "photos-summary", "aria-live": "polite" }, "Loading…");
  const spacer = h("div", { class: "spacer" });
  const scroller = h("div", { class: "timeline", id: "timeline", tabindex: 0, "aria-label": "Photos of the day" }, spacer);
  const preview = h("dialog", { id: "preview", "aria-label": "Photo preview" });
  root.replaceChildren(h("h1", {}, "Photos"),
    h("div", { class: "filters" },
      h("p", {}, h("label", { for: "photos-day" }, "Day"), day),
      h("p", {}, h("label", { for: "photos-camera" }, "Camera"), camera),
      h("p", { class: "switch" }, hidden, h("label", { for: "photos-hidden" }, "Show hidden (dark, blurry, duplicate)"))),
    summary, scroller, preview);

  let photos: Photo[] = [];
  let rows: Row[] = [];
  let generation = 0;
  let tile = MIN_TILE_PX;
  const rendered = new Map<number, HTMLElement>();

  function openPreview(p: Photo): void {
    const pin = h("button", { type: "button", onclick: async () => {
      try {
        const updated = await ctx.api.pin(p.item_id, !p.pinned);
        Object.assign(p, updated);
        ctx.clearError();
        pin.textContent = p.pinned ? "Unpin" : "Pin";
        pin.setAttribute("aria-pressed", String(p.pinned));
      } catch (err) { ctx.showError(err); }
    }, "aria-pressed": String(p.pinned) }, p.pinned ? "Unpin" : "Pin");
    const flags = Object.entries(p.flags).filter(([, v]) => v).map(([k]) => k).join(", ");
    preview.replaceChildren(
      p.preview_url ? h("img", { src: p.preview_url, alt: `Photo taken ${exactTime(p.captured_at)}`, class: "large" })
        : h("p", {}, p.status === "failed" ? "This photo could not be processed." : "The preview is still being made."),
      h("p", {}, exactTime(p.captured_at), flags ? ` · ${flags}` : "", p.pinned ? " · pinned" : ""),
      h("div", { class: "buttons" }, pin, h("button", { type: "button", onclick: () => preview.close() }, "Close")));
    preview.showModal();
  }

  function rowElement(r: Row): HTMLElement {
    const style = `top:${r.top}px;height:${r.height}px`;
    if (r.kind === "header") {
      const m = r.moment;
      return h("h2", { class: "moment", style }, `${timeOf(m.start)}–${timeOf(m.end)}`, h("small", {}, ` · ${countOf(m.photos.length)}`));
    }
    return h("div", { class: "row", style },
      ...r.photos.map((p) => h("button", { type: "button", class: `tile${p.hidden ? " hidden-photo" : ""}${p.pinned ? " pinned" : ""}`,
        style: `width:${tile}px;height:${tile}px`, "aria-label": `Photo ${timeOf(p.captured_at)}${p.pinned ? ", pinned" : ""}`,
        "data-item-id": p.item_id, onclick: () => openPreview(p) },
      p.thumbnail_url ? h("img", { src: p.thumbnail_url, alt: "", decoding: "async", width: tile - 4, height: tile - 4 })
        : h("span", {}, p.status === "failed" ? "failed" : timeOf(p.captured_at)))));
  }

  function paint(): void {
    const [a, b] = visibleRows(rows, scroller.scrollTop, scroller.clientHeight, OVERSCAN_PX);
    for (const [i, el] of rendered) if (i < a || i >= b) { el.remove(); rendered.delete(i); }
    for (let i = a; i < b; i++) {
      if (rendered.has(i)) continue;
      const el = rowElement(rows[i]);
      rendered.set(i, el);
      scroller.append(el);
    }
  }

  function relayout(): void {
    const width = scroller.clientWidth - 8;
    const columns = Math.max(3, Math.floor(width / MIN_TILE_PX));
    tile = Math.floor(width / columns);
    const layout = layoutRows(groupMoments(photos), columns, tile, HEADER_PX);
    rows = layout.rows;
    spacer.style.height = `${layout.height}px`;
    for (const el of rendered.values()) el.remove();
    rendered.clear();
    paint();
  }

  // Signed URLs are short-lived: a little before the first expires, the day is fetched again
  // (in place, keeping the scroll position).
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleRefresh(): void {
    clearTimeout(refreshTimer);
    const expiries = photos.map((p) => p.urls_expire_at).filter((e): e is string => !!e).map(Date.parse);
    if (expiries.length) refreshTimer = setTimeout(() => load(true), Math.max(5000, Math.min(...expiries) - Date.now() - 60_000));
  }

  async function load(inPlace = false): Promise<void> {
    const mine = ++generation;
    if (!inPlace) { photos = []; relayout(); summary.textContent = "Loading…"; }
    let fetched: Photo[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await ctx.api.photos({ ...dayRange(day.value), device_id: camera.value || undefined, include_hidden: hidden.checked, cursor });
        if (mine !== generation) return;
        fetched = fetched.concat(page.photos);
        cursor = page.next_cursor ?? undefined;
        if (!inPlace) {
          photos = fetched;
          relayout();
          summary.textContent = `${countOf(photos.length)}${cursor ? " (loading more…)" : ""}`;
        }
      } while (cursor);
      if (inPlace) { photos = fetched; relayout(); summary.textContent = countOf(photos.length); }
      if (!photos.length) summary.textContent = "No photos on this day.";
      scheduleRefresh();
      ctx.clearError();
    } catch (err) { ctx.showError(err); if (!inPlace) summary.textContent = "Photos could not be loaded."; }
  }

  scroller.addEventListener("scroll", () => requestAnimationFrame(paint), { passive: true });
  const onResize = () => relayout();
  addEventListener("resize", onResize);
  ctx.onLeave(() => { removeEventListener("resize", onResize); clearTimeout(refreshTimer); generation++; });
  for (const el of [day, camera, hidden]) el.addEventListener("change", () => load());
  ctx.api.listDevices().then((devices) => {
    for (const d of devices) camera.append(h("option", { value: d.id }, d.name ?? d.id.slice(0, 8)));
  }).catch((err) => ctx.showError(err));
  load();
}

const countOf = (n: number) => `${n} ${n === 1 ? "photo" : "photos"}`;
