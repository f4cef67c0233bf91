// Debian's Chromium driven by playwright-core (no downloaded browser), a fresh profile per run,
// the built page served beside a Supabase URL, and screenshots kept under test-artifacts/web.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import { serveWeb } from "../../scripts/web/serve.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { tempDir } from "../support/temp.ts";

export const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/web");

export async function launchBrowser(): Promise<BrowserContext> {
  const profile = await tempDir("lifelog-chromium-");
  return chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
}

export async function servePage(supabaseUrl: string, imageOrigins: string[] = []) {
  const dir = await tempDir("lifelog-web-");
  const sizes = await buildWeb(dir);
  const server = await serveWeb({ dir, port: await freePort(), supabaseUrl, anonKey: "local-anon-key", imageOrigins });
  return { ...server, dir, sizes };
}

/** Full-page screenshots at phone (360 px) and desktop (1280 px) width. */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  await mkdir(ARTIFACTS, { recursive: true });
  const files: string[] = [];
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await page.waitForTimeout(150); // let layout settle after the resize (not a correctness wait)
    const file = join(ARTIFACTS, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return files;
}

/** Polls `check` until it returns a truthy value; fails with `what` after the deadline. */
export async function eventually<T>(what: string, check: () => Promise<T> | T, deadlineMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) { last = err; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function signIn(page: Page, pageUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${pageUrl}/#/cameras`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Cameras", level: 1 }).waitFor({ timeout: 60_000 });
}
