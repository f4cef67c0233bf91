// Cameras: every camera's health and counts; rename; revoke behind a confirmation.
import type { Device } from "../api.ts";
import type { PageContext } from "../app-context.ts";
import { h } from "../dom.ts";
import { bytes, exactTime, isOnline, lastErrorInWords, relativeTime, stateInWords } from "../format.ts";

const REFRESH_MS = 5000;

function fact(label: string, value: Node | string): HTMLElement {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value));
}

function card(d: Device, ctx: PageContext, reload: (force: boolean) => void): HTMLElement {
  const s = d.status;
  const state = stateInWords(d);
  const nameInput = h("input", { id: `name-${d.id}`, value: d.name ?? "", maxlength: 64, required: true, autocomplete: "off" });
  const renameForm = h("form", { class: "inline", "aria-label": `Rename ${d.name ?? "camera"}`,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      try { await ctx.api.rename(d.id, nameInput.value.trim()); ctx.clearError(); reload(true); } catch (err) { ctx.showError(err); }
    } },
  h("label", { for: `name-${d.id}` }, "Name"), nameInput, h("button", { type: "submit" }, "Rename"));
  const dialog = h("dialog", { "aria-labelledby": `revoke-title-${d.id}` },
    h("h3", { id: `revoke-title-${d.id}` }, `Revoke ${d.name ?? "this camera"}?`),
    h("p", {}, "The camera is signed out at its next request and can no longer upload. Its photos stay. To use it again, pair it anew."),
    h("form", { method: "dialog", class: "buttons" },
      h("button", { value: "cancel", autofocus: true }, "Cancel"),
      h("button", { value: "revoke", class: "danger" }, "Revoke camera")));
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "revoke") return;
    try { await ctx.api.revoke(d.id); ctx.clearError(); reload(true); } catch (err) { ctx.showError(err); }
  });
  const revoke = d.revoked_at ? null : h("button", { type: "button", class: "danger", onclick: () => dialog.showModal() }, "Revoke…");
  return h("article", { class: "camera", "data-device-id": d.id, "aria-labelledby": `title-${d.id}` },
    h("h2", { id: `title-${d.id}` }, d.name ?? "Unnamed camera",
      h("span", { class: `badge ${d.revoked_at ? "revoked" : isOnline(d) ? "online" : "offline"}`, "data-state": state }, state)),
    h("dl", { class: "facts" },
      fact("Last seen", h("span", { title: exactTime(d.last_seen_at) }, `${relativeTime(d.last_seen_at)}`, h("small", {}, ` (${exactTime(d.last_seen_at)})`))),
      fact("Photos today", String(d.items.today)),
      fact("Photos in total", String(d.items.total)),
      fact("Waiting on card", s?.queue_depth == null ? "—" : String(s.queue_depth)),
      fact("Free card space", bytes(s?.free_bytes)),
      fact("Dropped", s?.dropped == null ? "—" : String(s.dropped)),
      fact("Quarantined", s?.quarantined == null ? "—" : String(s.quarantined)),
      fact("Firmware", s?.firmware_version ?? d.firmware_version ?? "—"),
      fact("Clock synced", s?.clock_synced == null ? "—" : s.clock_synced ? "Yes" : "No"),
      fact("Last error", lastErrorInWords(s?.last_error)),
      fact("Privacy", d.settings.paused ? "Paused" : "Capturing")),
    d.revoked_at ? h("p", { class: "muted" }, `Revoked ${exactTime(d.revoked_at)}`) : renameForm,
    h("div", { class: "buttons" }, revoke),
    dialog);
}

export function camerasPage(root: HTMLElement, ctx: PageContext): void {
  const list = h("div", { class: "cameras", "aria-live": "polite" }, h("p", {}, "Loading cameras…"));
  root.replaceChildren(h("h1", {}, "Cameras"), list);
  let editing = false;
  list.addEventListener("focusin", (e) => { editing = (e.target as HTMLElement).tagName === "INPUT"; });
  list.addEventListener("focusout", () => { editing = false; });
  const load = async (force = false) => {
    try {
      const devices = await ctx.api.listDevices();
      if (!force && (editing || list.querySelector("dialog[open]"))) return; // never pull a field from under the user
      list.replaceChildren(...(devices.length
        ? devices.map((d) => card(d, ctx, load))
        : [h("p", {}, "No cameras yet. ", h("a", { href: "#/pair" }, "Pair a camera"), ".")]));
    } catch (err) { ctx.showError(err); }
  };
  load();
  const timer = setInterval(() => load(), REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
