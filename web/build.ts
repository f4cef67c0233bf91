// Builds the owner's page into web/dist (one JS bundle, one CSS file, index.html) and reports
// the gzipped sizes against the budget.
import { build } from "esbuild";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const WEB_ROOT = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(WEB_ROOT, "dist");
/** Gzipped bytes the page may ship; docs/web.md states the same figures. */
export const SIZE_BUDGET = { js: 45_000, css: 4_000 };

export interface BuiltSizes { js: number; css: number }

export async function buildWeb(outDir = WEB_DIST): Promise<BuiltSizes> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(WEB_ROOT, "src/main.ts")], bundle: true, minify: true, format: "esm", target: "es2022",
    outfile: join(outDir, "app.js"), legalComments: "none", logLevel: "warning",
  });
  await build({ entryPoints: [join(WEB_ROOT, "style.css")], bundle: true, minify: true, outfile: join(outDir, "app.css"), logLevel: "warning" });
  await copyFile(join(WEB_ROOT, "index.html"), join(outDir, "index.html"));
  const gz = async (f: string) => gzipSync(await readFile(join(outDir, f)), { level: 9 }).length;
  return { js: await gz("app.js"), css: await gz("app.css") };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildWeb();
  const over = (["js", "css"] as const).filter((k) => sizes[k] > SIZE_BUDGET[k]);
  for (const k of ["js", "css"] as const) {
    console.log(`web/dist/app.${k}: ${(sizes[k] / 1000).toFixed(1)} kB gzipped (budget ${(SIZE_BUDGET[k] / 1000).toFixed(1)} kB)`);
  }
  if (over.length) { console.error(`over budget: ${over.join(", ")}`); process.exit(1); }
}
