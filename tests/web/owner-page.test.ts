// The owner's page in Debian's Chromium against the local stack: sign in, pair a simulated
// camera with the code the page shows, watch it activate and upload, pause and resume it from
// the Privacy page (the camera's heartbeats say paused, it captures nothing meanwhile), see its
// photos as thumbnails the photo worker made, rename it, revoke it (its next request is
// refused), and another user's camera ids give nothing.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderFrame } from "../../scripts/sim/scene.ts";
import { buildSimCamera, type CameraEvent, type SimCameraRun, startSimCamera } from "../../scripts/sim/sim-camera.ts";
import { startWorker } from "../support/worker.ts";
import { newUser, pairDevice, stack } from "../support/stack.ts";
import { tempDir } from "../support/temp.ts";
import { eventually, launchBrowser, screenshots, servePage, signIn } from "./browser.ts";

let browser: BrowserContext;
let web: Awaited<ReturnType<typeof servePage>>;
let page: Page;
const consoleProblems: string[] = [];

beforeAll(async () => {
  await buildSimCamera();
  web = await servePage(stack.supabase_url, [stack.storage.endpoint]);
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") consoleProblems.push(m.text()); });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
});

describe("the owner's page against the local stack", () => {
  let camera: SimCameraRun | undefined;
  const events: Array<CameraEvent & { n: number }> = [];
  afterAll(() => { camera?.child.kill("SIGKILL"); });

  it("signs in, pairs, activates, shows photos, pauses, renames and revokes", async () => {
    const response = await page.goto(`${web.url}/`);
    const csp = response!.headers()["content-security-policy"];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`connect-src 'self' ${new URL(stack.supabase_url).origin}`);
    expect(csp).not.toMatch(/\*|unsafe-inline|unsafe-eval/);

    // A wrong password is refused in words.
    await page.getByLabel("Email").fill(stack.user.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#sign-in-note").textContent(), { timeout: 30_000 }).toBe("Wrong email or password.");
    await screenshots(page, "sign-in");

    await signIn(page, web.url, stack.user.email, stack.user_password);

    // Pair: the code is on the page; the camera is started with exactly that code.
    await page.locator("#nav").getByRole("link", { name: "Pair a camera", exact: true }).click();
    const name = `web-cam-${Date.now() % 100000}`;
    await page.getByLabel("Camera name (optional)").fill(name);
    await page.getByRole("button", { name: "Create pairing code" }).click();
    const code = (await page.locator("#pairing-code").textContent({ timeout: 30_000 }))!;
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    await expect.poll(() => page.locator(".qr svg").count()).toBe(1);
    await expect.poll(() => page.locator("#expires-in").textContent()).toMatch(/^(10:00|9:\d\d)$/);
    await screenshots(page, "pair-waiting");

    const dir = await tempDir("lifelog-web-camera-");
    // Real JPEGs for the camera to take (daylight frames of the simulated day), so the worker
    // can make thumbnails of them.
    const frames = join(dir, "frames");
    await mkdir(frames);
    for (const [k, f] of [40, 52, 64, 76].entries()) {
      await writeFile(join(frames, `frame-${k}.jpg`), (await renderFrame(f, 96)).jpeg);
    }
    let n = 0;
    camera = startSimCamera({
      apiBase: stack.api_base, card: join(dir, "card"), nvs: join(dir, "nvs"), pairingCode: code,
      intervalMs: 400, frames,
      extraArgs: ["--heartbeat", "--heartbeat-max-ms", "1000", "--max-runtime-ms", "240000"],
      onEvent: (e) => events.push({ ...e, n: n++ }),
    });
    await page.locator('#pair-state[data-state="activated"]').waitFor({ timeout: 90_000 });
    expect(await page.locator("#pair-state").textContent()).toContain(name);
    await screenshots(page, "pair-activated");

    // Cameras: online, photos counted as they arrive.
    await page.locator("#nav").getByRole("link", { name: "Cameras", exact: true }).click();
    const cardOf = () => page.locator("article.camera", { has: page.getByRole("heading", { name }) });
    await eventually("the camera online with photos today", async () => {
      const text = await cardOf().textContent();
      const today = Number(/Photos today(\d+)/.exec(text ?? "")?.[1] ?? 0);
      return (await cardOf().locator(".badge").getAttribute("data-state")) === "Online" && today >= 2;
    }, 90_000);
    const deviceId = (await cardOf().getAttribute("data-device-id"))!;
    await eventually("the camera's status (firmware, card space)", async () => /Firmware[^—]/.test((await cardOf().textContent()) ?? "") && !/Free card space—/.test((await cardOf().textContent()) ?? ""), 60_000);
    await screenshots(page, "cameras");

    // Photos: the camera's photos appear as thumbnails once the photo worker has made them.
    const { code: workerExit, stderr: workerLog } = await startWorker(["--once", "--name", "owner-page-test"]).done;
    expect(workerExit, workerLog).toBe(0);
    await page.locator("#nav").getByRole("link", { name: "Photos", exact: true }).click();
    await page.locator("#photos-camera").selectOption(deviceId);
    await expect.poll(async () => Number(/^(\d+) photos?$/.exec((await page.locator("#photos-summary").textContent()) ?? "")?.[1] ?? 0),
      { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    const decoded = await eventually("the camera's thumbnails decoded", async () => {
      const widths = await page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>("#timeline img")]
        .filter((i) => i.complete && i.naturalWidth > 0).map((i) => i.naturalWidth));
      return widths.length > 0 ? widths : null;
    }, 60_000);
    expect(decoded.every((w) => w === 320)).toBe(true); // the worker's thumbnails of 800 x 600 frames
    expect((await page.locator("#error").textContent()) ?? "").toBe("");
    await screenshots(page, "photos-from-camera");
    await page.locator("#nav").getByRole("link", { name: "Privacy", exact: true }).click();

    // Privacy: pause on the page; the camera's next heartbeat answers paused; nothing is captured until resumed.
    const row = page.locator(`article.camera[data-device-id="${deviceId}"]`);
    const pauseAt = n;
    await row.getByLabel("Pause capturing").check();
    const sawPause = await eventually("a heartbeat answered paused", () => events.find((e) => e.n >= pauseAt && e.event === "heartbeat" && e.paused === true), 60_000);
    await row.locator('.seen[data-seen="true"][data-paused="true"]').waitFor({ timeout: 60_000 });
    await screenshots(page, "privacy-paused");
    // Three more heartbeats while paused: no capture after the one that brought the pause.
    await eventually("three heartbeats while paused", () => events.filter((e) => e.n > sawPause.n && e.event === "heartbeat").length >= 3, 60_000);
    const capturedWhilePaused = events.filter((e) => e.n > sawPause.n && e.event === "captured");
    expect(capturedWhilePaused).toEqual([]);
    const resumeAt = n;
    await row.getByLabel("Pause capturing").uncheck();
    const sawResume = await eventually("a heartbeat answered not paused", () => events.find((e) => e.n >= resumeAt && e.event === "heartbeat" && e.paused === false), 60_000);
    await eventually("a photo after resuming", () => events.find((e) => e.n > sawResume.n && e.event === "captured"), 60_000);
    await row.locator('.seen[data-seen="true"][data-paused="false"]').waitFor({ timeout: 60_000 });

    // Rename on the Cameras page.
    await page.locator("#nav").getByRole("link", { name: "Cameras", exact: true }).click();
    const renamed = `${name} (desk)`;
    const nameField = page.locator(`#name-${deviceId}`);
    await nameField.fill(renamed);
    await nameField.press("Enter");
    await page.getByRole("heading", { name: renamed }).waitFor({ timeout: 30_000 });

    // Revoke behind a confirmation: Cancel keeps the camera, Revoke signs it out at its next request.
    const card = page.locator(`article.camera[data-device-id="${deviceId}"]`);
    await card.getByRole("button", { name: "Revoke…" }).click();
    await screenshots(page, "revoke-confirm");
    await card.getByRole("button", { name: "Cancel" }).click();
    await page.waitForTimeout(300); // nothing to wait for: a cancelled dialog sends nothing
    expect(await card.locator(".badge").getAttribute("data-state")).not.toBe("Revoked");
    const revokeAt = n;
    await card.getByRole("button", { name: "Revoke…" }).click();
    await card.getByRole("button", { name: "Revoke camera" }).click();
    await card.locator('.badge[data-state="Revoked"]').waitFor({ timeout: 30_000 });
    const refused = await eventually("the camera's next request refused", () =>
      events.find((e) => e.n >= revokeAt && (e.event === "heartbeat_refused" || e.event === "token_dead")), 60_000);
    expect(refused.code ?? "token_revoked").toBe("token_revoked");
    await screenshots(page, "cameras-revoked");
    expect(consoleProblems.filter((t) => /Content Security Policy/i.test(t))).toEqual([]);
  }, 600_000);

  it("another user's camera ids give nothing through the page's session", async () => {
    const other = await newUser();
    const theirs = await pairDevice(other.token, "someone else's");
    const answers = await page.evaluate(async ({ base, id }) => {
      const token = JSON.parse(localStorage.getItem("lifelog-auth")!).access_token as string;
      const call = async (path: string, body?: unknown) => {
        const r = await fetch(`${base}/devices${path}`, { method: body ? "POST" : "GET", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
        return { status: r.status, body: await r.json() };
      };
      return {
        list: await call(""),
        rename: await call(`/${id}/rename`, { name: "mine now" }),
        settings: await call(`/${id}/settings`, { paused: true }),
        revoke: await call(`/${id}/revoke`, {}),
      };
    }, { base: `${stack.supabase_url}/functions/v1`, id: theirs.device_id });
    expect(answers.list.status).toBe(200);
    expect(JSON.stringify(answers.list.body)).not.toContain(theirs.device_id);
    for (const r of [answers.rename, answers.settings, answers.revoke]) {
      expect(r).toMatchObject({ status: 404, body: { error: { code: "device_not_found" } } });
    }
  });

  it("an expired session sends the owner back to sign in, in words", async () => {
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("lifelog-auth")!);
      s.access_token = "expired.token.value";
      s.expires_at = Math.floor(Date.now() / 1000) + 3600; // the client believes it; the server does not
      localStorage.setItem("lifelog-auth", JSON.stringify(s));
    });
    await page.goto(`${web.url}/#/cameras`);
    await page.reload();
    await expect.poll(() => page.locator("#sign-in-note").textContent(), { timeout: 60_000 }).toBe("Your session has ended. Sign in again.");
  });
});
