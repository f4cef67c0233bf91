// The Photos page in Chromium with a day of 2,880 photos, against the contract fixture
// (photo-fixture.ts): image nodes in the DOM stay bounded while scrolling the whole day, first
// thumbnails decode within a measured time, hidden photos sit behind the toggle, preview and pin.
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
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
