// Pair a camera: creates the pairing, shows the code (large and as a QR code), counts down to its
// expiry, and switches to "activated" by itself when GET /devices shows the camera activated.
import QRCode from "qrcode";
import type { PageContext } from "../app-context.ts";
import { h } from "../dom.ts";
import { countdown } from "../format.ts";

const POLL_MS = 2000;

export function pairPage(root: HTMLElement, ctx: PageContext): void {
  const name = h("input", { id: "pair-name", maxlength: 64, placeholder: "Kitchen camera", autocomplete: "off" });
  const result = h("section", { "aria-live": "polite", id: "pairing" });
  const timers: ReturnType<typeof setInterval>[] = [];
  ctx.onLeave(() => timers.forEach(clearInterval));
  const form = h("form", { class: "stack", onsubmit: async (e: Event) => {
    e.preventDefault();
    timers.forEach(clearInterval);
    try {
      const p = await ctx.api.pair(name.value.trim() || undefined);
      ctx.clearError();
      const svg = await QRCode.toString(p.pairing_code, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
      const qr = h("div", { class: "qr", role: "img", "aria-label": `QR code of the pairing code ${p.pairing_code}` });
      qr.innerHTML = svg; // generated locally from the code, no user HTML
      const left = h("span", { id: "expires-in" }, countdown(p.expires_at));
      const state = h("p", { id: "pair-state", class: "state", "data-state": "waiting" }, "Waiting for the camera…");
      result.replaceChildren(
        h("p", {}, "Type this code into the camera's setup portal (or scan it there):"),
        h("p", { class: "code", id: "pairing-code", "aria-label": `Pairing code ${p.pairing_code.split("").join(" ")}` }, p.pairing_code),
        qr,
        h("p", {}, "Expires in ", left, "."),
        state);
      timers.push(setInterval(() => {
        left.textContent = countdown(p.expires_at);
        if (Date.parse(p.expires_at) <= Date.now() && state.dataset.state === "waiting") {
          state.dataset.state = "expired";
          state.textContent = "The code has expired. Pair again for a new one.";
          timers.forEach(clearInterval);
        }
      }, 1000));
      timers.push(setInterval(async () => {
        try {
          const d = (await ctx.api.listDevices()).find((x) => x.id === p.device_id);
          if (d?.activated_at && state.dataset.state === "waiting") {
            state.dataset.state = "activated";
            state.replaceChildren("Activated: ", h("strong", {}, d.name ?? "your camera"), " is connected. ", h("a", { href: "#/cameras" }, "See it on Cameras"), ".");
            timers.forEach(clearInterval);
          }
        } catch (err) { ctx.showError(err); }
      }, POLL_MS));
    } catch (err) { ctx.showError(err); }
  } },
  h("label", { for: "pair-name" }, "Camera name (optional)"), name, h("button", { type: "submit" }, "Create pairing code"));
  root.replaceChildren(h("h1", {}, "Pair a camera"),
    h("p", {}, "Create a code, then put the camera in setup mode and enter the code in its portal. The code works once, for 10 minutes."),
    form, result);
}
