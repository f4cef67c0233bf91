// Privacy: pause/resume per camera and its capture interval, and whether the camera has seen
// the change yet (it learns settings from its next heartbeat).
import type { Device } from "../api.ts";
import type { PageContext } from "../app-context.ts";
import { h } from "../dom.ts";
import { exactTime, relativeTime, settingsSeen } from "../format.ts";

const REFRESH_MS = 3000;

function row(d: Device, ctx: PageContext, reload: () => void): HTMLElement {
  const seen = settingsSeen(d);
  const pauseId = `pause-${d.id}`;
  const intervalId = `interval-${d.id}`;
  const toggle = h("input", { type: "checkbox", role: "switch", id: pauseId, checked: d.settings.paused, disabled: !!d.revoked_at,
    onchange: async () => {
      try { await ctx.api.settings(d.id, { paused: toggle.checked }); ctx.clearError(); } catch (err) { ctx.showError(err); }
      reload();
    } });
  const interval = h("input", { type: "number", id: intervalId, min: 5, max: 3600, step: 1, inputmode: "numeric",
    value: d.settings.capture_interval_s ?? "", placeholder: "default", disabled: !!d.revoked_at });
  const intervalForm = h("form", { class: "inline", onsubmit: async (e: Event) => {
    e.preventDefault();
    const v = interval.value.trim();
    try { await ctx.api.settings(d.id, { capture_interval_s: v === "" ? null : Number(v) }); ctx.clearError(); } catch (err) { ctx.showError(err); }
    reload();
  } }, h("label", { for: intervalId }, "Photo every (seconds)"), interval, h("button", { type: "submit" }, "Save"));
  const want = d.settings.paused ? "paused" : "capturing";
  return h("article", { class: "camera", "data-device-id": d.id },
    h("h2", {}, d.name ?? "Unnamed camera"),
    h("p", { class: "switch" }, toggle, h("label", { for: pauseId }, "Pause capturing")),
    h("p", { class: `seen ${seen ? "yes" : "no"}`, "data-seen": String(seen), "data-paused": String(d.settings.paused), "aria-live": "polite" },
      d.revoked_at ? "Revoked: settings no longer reach this camera."
        : seen ? `The camera is ${want}` + (d.status ? ` (seen at its heartbeat ${relativeTime(d.status.reported_at)}, ${exactTime(d.status.reported_at)}).` : ".")
        : `Changed to ${want}; the camera will see it at its next heartbeat.`),
    intervalForm);
}

export function privacyPage(root: HTMLElement, ctx: PageContext): void {
  const list = h("div", { class: "cameras" }, h("p", {}, "Loading…"));
  root.replaceChildren(h("h1", {}, "Privacy"),
    h("p", {}, "A paused camera takes no photos. It learns a change at its next heartbeat; this page shows when it has."), list);
  let busy = false;
  list.addEventListener("focusin", (e) => { busy = (e.target as HTMLInputElement).type === "number"; });
  list.addEventListener("focusout", () => { busy = false; });
  const load = async () => {
    try {
      const devices = (await ctx.api.listDevices()).filter((d) => d.activated_at);
      if (busy) return;
      list.replaceChildren(...(devices.length ? devices.map((d) => row(d, ctx, load)) : [h("p", {}, "No activated cameras.")]));
    } catch (err) { ctx.showError(err); }
  };
  load();
  const timer = setInterval(load, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
