// The owner's page: signs in with Supabase Auth (password), then routes between four pages.
import { AuthClient } from "@supabase/auth-js";
import { ApiFailure, createApi } from "./api.ts";
import type { PageContext } from "./app-context.ts";
import { h } from "./dom.ts";
import { camerasPage } from "./pages/cameras.ts";
import { pairPage } from "./pages/pair.ts";
import { photosPage } from "./pages/photos.ts";
import { privacyPage } from "./pages/privacy.ts";

interface PageConfig { supabaseUrl: string; anonKey: string }

const PAGES: Record<string, (root: HTMLElement, ctx: PageContext) => void> = {
  cameras: camerasPage, pair: pairPage, privacy: privacyPage, photos: photosPage,
};

async function start(): Promise<void> {
  const config: PageConfig = await (await fetch("config.json")).json();
  const auth = new AuthClient({
    url: `${config.supabaseUrl}/auth/v1`,
    headers: { apikey: config.anonKey, authorization: `Bearer ${config.anonKey}` },
    storageKey: "lifelog-auth", persistSession: true, autoRefreshToken: true, detectSessionInUrl: false,
  });
  const main = document.getElementById("main")!;
  const nav = document.getElementById("nav")!;
  const errorBox = document.getElementById("error")!;
  let leave: Array<() => void> = [];

  const clearError = () => { errorBox.hidden = true; errorBox.textContent = ""; };
  const showError = (err: unknown) => {
    if (err instanceof ApiFailure && err.sessionExpired) {
      void auth.signOut({ scope: "local" }).finally(() => signIn("Your session has ended. Sign in again."));
      return;
    }
    errorBox.textContent = err instanceof Error ? err.message : String(err);
    errorBox.hidden = false;
  };
  const api = createApi(`${config.supabaseUrl}/functions/v1`, config.anonKey, async () => (await auth.getSession()).data.session?.access_token ?? null);

  function route(): void {
    leave.forEach((f) => f());
    leave = [];
    clearError();
    const name = location.hash.replace(/^#\/?/, "") || "cameras";
    const page = PAGES[name] ?? camerasPage;
    for (const a of nav.querySelectorAll("a")) a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${name}`);
    page(main, { api, showError, clearError, onLeave: (f) => leave.push(f) });
    main.focus({ preventScroll: true });
  }

  function signIn(message?: string): void {
    leave.forEach((f) => f());
    leave = [];
    nav.hidden = true;
    const email = h("input", { type: "email", id: "email", autocomplete: "username", required: true });
    const password = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true });
    const note = h("p", { role: "status", id: "sign-in-note" }, message ?? "");
    main.replaceChildren(h("h1", {}, "Sign in"), note, h("form", { class: "stack", id: "sign-in", onsubmit: async (e: Event) => {
      e.preventDefault();
      const { error } = await auth.signInWithPassword({ email: email.value, password: password.value });
      if (error) { note.textContent = error.message === "Invalid login credentials" ? "Wrong email or password." : error.message; return; }
      started();
    } }, h("label", { for: "email" }, "Email"), email, h("label", { for: "password" }, "Password"), password,
      h("button", { type: "submit" }, "Sign in")));
    // A ready sign-in (npm start prints one): #signin=<email>:<password> fills the form once.
    const ready = /^#signin=([^:]+):(.+)$/.exec(location.hash);
    if (ready) {
      email.value = decodeURIComponent(ready[1]);
      password.value = decodeURIComponent(ready[2]);
      history.replaceState(null, "", location.pathname + "#/cameras");
    }
    email.focus();
  }

  function started(): void {
    nav.hidden = false;
    route();
  }

  document.getElementById("sign-out")!.addEventListener("click", async () => { await auth.signOut({ scope: "local" }); signIn("Signed out."); });
  addEventListener("hashchange", () => { if (!nav.hidden) route(); });
  auth.onAuthStateChange((event) => { if (event === "SIGNED_OUT" && !nav.hidden) signIn("Your session has ended. Sign in again."); });
  const { data } = await auth.getSession();
  if (data.session && !location.hash.startsWith("#signin=")) started(); else signIn();
}

start().catch((err) => {
  document.getElementById("main")!.textContent = `The page could not start: ${err instanceof Error ? err.message : err}`;
});
