// The built page: within its gzipped size budget, holding no secret of the stack, and served
// with a CSP that names only the page's and the project's own origins.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { SIZE_BUDGET } from "../../web/build.ts";
import { contentSecurityPolicy } from "../../scripts/web/serve.ts";
import { stack } from "../support/stack.ts";
import { servePage } from "./browser.ts";

it("the built JS and CSS stay within the gzipped budget", async () => {
  const web = await servePage(stack.supabase_url);
  await web.stop();
  console.log(JSON.stringify({ js_gzip_bytes: web.sizes.js, css_gzip_bytes: web.sizes.css, budget: SIZE_BUDGET }));
  expect(web.sizes.js).toBeGreaterThan(1000);
  expect(web.sizes.js).toBeLessThanOrEqual(SIZE_BUDGET.js);
  expect(web.sizes.css).toBeLessThanOrEqual(SIZE_BUDGET.css);
});

it("the served files hold no secret: no signing key, password, service key or pepper", async () => {
  const web = await servePage(stack.supabase_url);
  await web.stop();
  const files = await readdir(web.dir);
  const text = (await Promise.all(files.map((f) => readFile(join(web.dir, f), "utf8")))).join("\n");
  const secrets = [stack.authKey.privateJwk.d!, stack.user_password, stack.user_access_token,
    ...Object.entries(process.env).filter(([k, v]) => /SECRET|SERVICE|PEPPER|PASSWORD|PRIVATE/i.test(k) && v && v.length >= 12).map(([, v]) => v!)];
  for (const s of secrets) expect(text.includes(s), "a secret value in the bundle").toBe(false);
  expect(text).not.toMatch(/service_role|sb_secret_|DEVICE_TOKEN_PEPPER|SUPABASE_SERVICE_ROLE_KEY|BEGIN (EC )?PRIVATE KEY/);
});

it("the CSP names only the page's own origin, the project and its storage host", () => {
  const csp = contentSecurityPolicy("https://abc.supabase.co", ["https://abc.supabase.co/storage/v1/object/sign/x"]);
  expect(csp).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' https://abc.supabase.co; img-src 'self' https://abc.supabase.co; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
});
