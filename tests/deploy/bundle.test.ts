// What `supabase functions deploy devices --use-api` ships, taken from the pinned CLI's own
// upload (tests/deploy/management-api.ts), must resolve and type-check on its own: in an
// empty folder, no node_modules, no package.json, npm packages from the registry.
import { execFile } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";
import {
  type DeployedFunction, deployedDenoEnv, deployThroughCli, EDGE_RUNTIME_DENO_VERSION, installDeno, layOut,
} from "./deployed-function.ts";

const run = promisify(execFile);
let deployed: DeployedFunction;
let work: string;
let shipped: string;

beforeAll(async () => {
  work = await tempDir("deploy-bundle-");
  deployed = await deployThroughCli("devices", work);
  shipped = join(work, "shipped");
  await layOut(deployed, shipped);
}, 180_000);

/** deno <args> in the shipped folder with only Deno's own settings (no inherited env). */
function denoIn(deno: string, args: string[]) {
  return run(deno, args, {
    cwd: shipped,
    env: { PATH: process.env.PATH ?? "", HOME: work, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...deployedDenoEnv(work) },
    timeout: 300_000,
  });
}

describe("the deployed file set, as the CLI uploads it", () => {
  it("is the entry point, the modules it imports and the function's own deno.json", async () => {
    expect(deployed.metadata).toMatchObject({
      name: "devices", entrypoint_path: "functions/devices/index.ts",
      import_map_path: "functions/devices/deno.json", verify_jwt: false,
    });
    const names = [...deployed.files.keys()];
    expect(names).toContain("functions/devices/handler.ts");
    expect(names).toContain("functions/_shared/config.ts");
    expect(names.filter((n) => !n.endsWith(".ts"))).toEqual(["functions/devices/deno.json"]);
    expect(names.some((n) => n.includes("node_modules") || n.endsWith("package.json"))).toBe(false);
    for (const [name, content] of deployed.files) {
      expect(content.equals(await readFile(join(PROJECT_ROOT, name))), name).toBe(true);
    }
    expect((await readdir(shipped)).sort()).toEqual(["functions"]);
  });

  it("pins every npm import to the version package.json installs for the local stack", async () => {
    const denoJson = JSON.parse(deployed.files.get("functions/devices/deno.json")!.toString());
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(denoJson.nodeModulesDir).toBeUndefined(); // "manual" would need a node_modules beside it
    const imports = Object.entries(denoJson.imports as Record<string, string>);
    expect(imports.length).toBeGreaterThan(0);
    for (const [name, target] of imports) expect(target).toBe(`npm:${name}@${pkg.dependencies[name]}`);
  });

  it.each([
    ["node_modules' Deno", /^deno 2\./, () => Promise.resolve(join(PROJECT_ROOT, "node_modules/.bin/deno"))],
    [`Deno ${EDGE_RUNTIME_DENO_VERSION}, the Edge Runtime's`, new RegExp(`^deno ${EDGE_RUNTIME_DENO_VERSION} `),
      () => installDeno(EDGE_RUNTIME_DENO_VERSION, join(work, "deno-edge"))],
  ])("resolves from the registry and type-checks under %s", async (_, version, denoBinary) => {
    const deno = await denoBinary();
    const { stdout } = await denoIn(deno, ["--version"]);
    expect(stdout).toMatch(version);
    const { stderr } = await denoIn(deno, [
      // --no-lock: no deno.lock is shipped, and each version writes its own format
      "check", "--no-lock", "--config", "functions/devices/deno.json", "functions/devices/index.ts",
    ]);
    expect(stderr).toMatch(/^Check .*functions\/devices\/index\.ts$/m);
  }, 300_000);

  it("the same files with nodeModulesDir \"manual\" (the layout before) do not resolve there", async () => {
    const config = join(work, "manual-deno.json");
    const denoJson = JSON.parse(deployed.files.get("functions/devices/deno.json")!.toString());
    await writeFile(config, JSON.stringify({ ...denoJson, nodeModulesDir: "manual" }));
    const deno = join(PROJECT_ROOT, "node_modules/.bin/deno");
    const failed = await denoIn(deno, ["check", "--no-lock", "--config", config, "functions/devices/index.ts"]).then(
      () => null, (e: { stderr: string }) => e);
    expect(failed?.stderr).toMatch(/Could not find a matching package for 'npm:/);
  }, 120_000);
});
