// The Photos page in Chromium with a day of 2,880 photos, against the contract fixture
// (photo-fixture.ts): image nodes in the DOM stay bounded while scrolling the whole day, first
// thumbnails decode within a measured time, hidden photos sit behind the toggle, preview and pin.
// Then against the real routes of the local stack, with the worker's thumbnails.
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderFrame } from "../../scripts/sim/scene.ts";
import { ingestPhoto } from "../support/photos.ts";
import { post, stack } from "../support/stack.ts";
import { startWorker } from "../support/worker.ts";
import { eventually, launchBrowser, screenshots, servePage, signIn } from "./browser.ts";
import { startPhotoFixture } from "./photo-fixture.ts";

const DAY = 2880;
let browser: BrowserContext;
let page: Page;
let fixture: Awaited<ReturnType<typeof startPhotoFixture>>;
let web: Awaited<ReturnType<typeof servePage>>;

beforeAll(async () => {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  fixture = await startPhotoFixture(midnight, DAY);
  web = await servePage(fixture.url);
  browser = await launchBrowser();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await fixture?.stop();
});

const decodedImages = () => page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>("#timeline img")].filter((i) => i.complete && i.naturalWidth > 0).length);

it("a day of 2,880 photos: bounded image nodes, first thumbnails measured, hidden toggle, preview and pin", async () => {
  await signIn(page, web.url, "owner@fixture.local", "any");
  const started = Date.now();
  await page.locator("#nav").getByRole("link", { name: "Photos", exact: true }).click();
  await eventually("a decoded thumbnail", async () => (await decodedImages()) > 0, 60_000);
  const firstThumbnailMs = Date.now() - started;

  const visible = DAY - Array.from({ length: DAY }, (_, i) => i).filter((i) => i % 40 === 7 || i % 97 === 3).length;
  await expect.poll(() => page.locator("#photos-summary").textContent(), { timeout: 60_000 }).toBe(`${visible} photos`);

  // Scroll the whole day in viewport steps, counting image nodes at every stop.
  let maxImages = 0;
  let stops = 0;
  for (;;) {
    const { done, images } = await page.evaluate(() => {
      const t = document.getElementById("timeline")!;
      t.scrollTop += t.clientHeight;
      t.dispatchEvent(new Event("scroll"));
      return { done: t.scrollTop + t.clientHeight >= t.scrollHeight - 1, images: document.querySelectorAll("#timeline img").length };
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    maxImages = Math.max(maxImages, images, await page.locator("#timeline img").count());
    stops++;
    if (done) break;
  }
  const tops = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>("#timeline .row, #timeline .moment")].map((e) => e.offsetTop));
  expect(new Set(tops).size).toBe(tops.length); // rows laid out one under another, none stacked
  const lastTile = await page.locator("#timeline .tile").last().getAttribute("aria-label");
  console.log(JSON.stringify({ photos_in_day: DAY, shown: visible, first_thumbnail_ms: firstThumbnailMs, max_img_nodes: maxImages, scroll_stops: stops }));
  expect(stops).toBeGreaterThan(10);
  expect(maxImages).toBeGreaterThan(0);
  expect(maxImages).toBeLessThan(200);
  expect(lastTile).toMatch(/23:59|11:59/);
  await eventually("thumbnails at the end of the day", async () => (await decodedImages()) > 0);

  await page.evaluate(() => { document.getElementById("timeline")!.scrollTop = 0; });
  await page.getByLabel("Show hidden (dark, blurry, duplicate)").check();
  await expect.poll(() => page.locator("#photos-summary").textContent(), { timeout: 60_000 }).toBe(`${DAY} photos`);
  await expect.poll(() => page.locator("#timeline .tile.hidden-photo").count()).toBeGreaterThan(0);
  await screenshots(page, "photos");

  const firstHidden = page.locator("#timeline .tile.hidden-photo").first();
  const itemId = (await firstHidden.getAttribute("data-item-id"))!;
  await firstHidden.click();
  await eventually("the preview decoded", () => page.evaluate(() => { const i = document.querySelector<HTMLImageElement>("#preview img"); return !!i && i.naturalWidth > 0; }));
  await screenshots(page, "photos-preview");
  await page.locator("#preview").getByRole("button", { name: "Pin" }).click();
  await expect.poll(() => page.locator("#preview").getByRole("button", { name: "Unpin" }).getAttribute("aria-pressed")).toBe("true");
  expect(fixture.pinned.has(itemId)).toBe(true);
  await page.keyboard.press("Escape");
  expect(fixture.requests.filter((r) => r.startsWith("GET /functions/v1/devices/photos")).length).toBeGreaterThanOrEqual(Math.ceil(visible / 500));
}, 300_000);

// The same page against the real routes on the local stack: photos that went the whole way
// (upload, ingest, the photo worker) show as decoded WebP thumbnails from signed Storage URLs.
describe("the Photos page against the local stack", () => {
  let real: Page;
  let realWeb: Awaited<ReturnType<typeof servePage>>;
  beforeAll(async () => {
    realWeb = await servePage(stack.supabase_url, [stack.storage.endpoint]);
    real = await browser.newPage();
  }, 120_000);
  afterAll(async () => {
    await real?.close();
    await realWeb?.stop();
  });

  it("shows real thumbnails of the day's photos (naturalWidth > 0), a hidden one behind the toggle", async () => {
    const paired = await post<{ pairing_code: string; device_id: string }>("pair", { name: `photos-page-${Date.now()}` },
      { authorization: `Bearer ${stack.user_access_token}` });
    const activated = await post<{ device_token: string }>("activate", { pairing_code: paired.body.pairing_code });
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const base = Math.max(midnight.getTime() + 60_000, Date.now() - 10 * 60_000);
    const frames = [40, 60, 88]; // two bright places and a night frame (dark: hidden)
    const ids: string[] = [];
    for (const [k, f] of frames.entries()) {
      ids.push(await ingestPhoto(activated.body.device_token, k, (await renderFrame(f, 96)).jpeg, new Date(base + k * 30_000)));
    }
    const { code, stderr } = await startWorker(["--once", "--name", "photos-page-test"]).done;
    expect(code, stderr).toBe(0);

    await signIn(real, realWeb.url, stack.user.email, stack.user_password);
    await real.locator("#nav").getByRole("link", { name: "Photos", exact: true }).click();
    await real.locator(`#photos-camera option[value="${paired.body.device_id}"]`).waitFor({ state: "attached", timeout: 60_000 });
    await real.locator("#photos-camera").selectOption(paired.body.device_id);
    await expect.poll(() => real.locator("#photos-summary").textContent(), { timeout: 60_000 }).toBe("2 photos");
    const decoded = () => real.evaluate(() => [...document.querySelectorAll<HTMLImageElement>("#timeline img")]
      .filter((i) => i.complete && i.naturalWidth > 0).map((i) => ({ src: i.currentSrc, width: i.naturalWidth })));
    const shown = await eventually("the thumbnails decoded", async () => { const d = await decoded(); return d.length === 2 ? d : null; });
    for (const img of shown) {
      expect(img.src.startsWith(new URL(stack.storage.endpoint).origin)).toBe(true);
      expect(img.width).toBe(320); // the worker's thumbnail of an 800 x 600 frame
    }
    await real.getByLabel("Show hidden (dark, blurry, duplicate)").check();
    await expect.poll(() => real.locator("#photos-summary").textContent(), { timeout: 60_000 }).toBe("3 photos");
    await expect.poll(() => real.locator(`#timeline .tile.hidden-photo[data-item-id="${ids[2]}"]`).count()).toBe(1);
    await screenshots(real, "photos-local-stack");
  }, 300_000);
});
