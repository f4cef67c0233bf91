// Host-side checks of the rendered Arduino sketch. No ESP32 toolchain exists here: the core is
// compiled in the Arduino include layout with g++, and the glue only against declaration stubs
// (tests/firmware/arduino-stubs), which checks syntax and types, not behaviour on the device.
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { LIBRARY_NAME, writeLibraryZip } from "../../scripts/firmware/arduino-library.ts";
import { renderSketch, type SketchConfigInput, SketchRenderError } from "../../scripts/firmware/render-sketch.ts";
import { tempDir } from "../support/temp.ts";

const run = promisify(execFile);
const STUBS = join(import.meta.dirname, "arduino-stubs");

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ/+a\\b\"c\n-----END CERTIFICATE-----\n";
const NASTY_PASSWORD = 'pa"ss\\word?\\n"end';
const BASE: SketchConfigInput = {
  wifi_networks: [
    { ssid: "Home \"Net\"", password: NASTY_PASSWORD },
    { ssid: "Café hotspot", password: "hotspot-pass-42" },
  ],
  api_base_url: "https://abc.supabase.co/functions/v1",
  pairing_code: "ABCD-EFGH",
  frame_size: "SXGA",
  jpeg_quality: 10,
  chunk_size: 4096,
  root_ca_pem: PEM,
  time_zone: "CET-1CEST,M3.5.0,M10.5.0/3",
};

async function readTree(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    out.set(relative(root, full), await readFile(full));
  }
  return out;
}

async function render(config: SketchConfigInput, core: "bundled" | "library" = "bundled") {
  const result = await renderSketch(config, await tempDir(), { core });
  return { result, tree: await readTree(result.sketchDir) };
}

/** The text of one #define, continuation lines joined. */
function defineBody(header: string, name: string): string {
  const lines = header.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`#define ${name} `) || l === `#define ${name} \\`);
  if (start < 0) throw new Error(`no #define ${name}`);
  let body = lines[start].slice(`#define ${name}`.length);
  for (let i = start; lines[i].endsWith("\\"); i++) body = body.slice(0, -1) + "\n" + lines[i + 1];
  return body;
}

/** Decodes every C string literal in `source`, in order (adjacent literals stay separate). */
function parseCStringLiterals(source: string): string[] {
  const literals: string[] = [];
  for (const m of source.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)) {
    const bytes: number[] = [];
    const body = m[1];
    for (let i = 0; i < body.length; i++) {
      if (body[i] !== "\\") {
        bytes.push(...Buffer.from(body[i], "utf8"));
        continue;
      }
      const next = body[++i];
      const octal = /^[0-7]{1,3}/.exec(body.slice(i))?.[0];
      if (octal) {
        bytes.push(parseInt(octal, 8));
        i += octal.length - 1;
      } else {
        const simple: Record<string, number> = { n: 10, r: 13, t: 9, '"': 34, "\\": 92, "?": 63 };
        if (!(next in simple)) throw new Error(`unexpected escape \\${next}`);
        bytes.push(simple[next]);
      }
    }
    literals.push(Buffer.from(bytes).toString("utf8"));
  }
  return literals;
}

describe("sketch renderer", () => {
  it("renders byte-identical trees from the same config", async () => {
    const a = await render(BASE);
    const b = await render(BASE);
    expect([...a.tree.keys()].sort()).toEqual([...b.tree.keys()].sort());
    for (const [path, content] of a.tree) expect(content.equals(b.tree.get(path)!), path).toBe(true);
    expect(a.result.files).toEqual([...a.tree.keys()].sort());
    expect(a.tree.has("lifelog_camera.ino")).toBe(true);
    expect(a.tree.has("src/lifelog/uploader.h")).toBe(true);
    expect(a.tree.has("src/uploader.cpp")).toBe(true);
    expect(a.tree.has("README.md")).toBe(false);
    expect(a.tree.get("sketch.yaml")!.toString()).toContain(
      "arduino-cli compile --fqbn esp32:esp32:XIAO_ESP32S3:PSRAM=opi lifelog_camera",
    );
  });

  it("derives LIFELOG_CONFIG_VERSION from the config content only", async () => {
    const a = await render(BASE);
    const reordered = await render(Object.fromEntries(Object.entries(BASE).reverse()) as SketchConfigInput);
    const changed = await render({ ...BASE, capture_interval_s: 60 });
    const version = (t: Map<string, Buffer>) => /#define LIFELOG_CONFIG_VERSION (0x[0-9a-f]{8}u)/.exec(t.get("lifelog_config.h")!.toString())?.[1];
    expect(version(a.tree)).toBe(`0x${a.result.configVersion}u`);
    expect(version(reordered.tree)).toBe(version(a.tree));
    expect(version(changed.tree)).not.toBe(version(a.tree));
  });

  it("keeps secrets out of everything but lifelog_config.h, and never bakes in a token or pepper", async () => {
    const fakePepper = "fake-pepper-0123456789abcdef0123456789abcdef";
    const saved = process.env.DEVICE_TOKEN_PEPPER;
    process.env.DEVICE_TOKEN_PEPPER = fakePepper;
    try {
      const { tree } = await render({ ...BASE, wifi_networks: [{ ssid: "Home", password: "plain-secret-pw" }] });
      const holders = [...tree].filter(([, c]) => c.includes("plain-secret-pw")).map(([p]) => p);
      expect(holders).toEqual(["lifelog_config.h"]);
      for (const [path, content] of tree) {
        expect(content.includes("devtok_"), path).toBe(false);
        expect(content.includes(fakePepper), path).toBe(false);
      }
    } finally {
      if (saved === undefined) delete process.env.DEVICE_TOKEN_PEPPER;
      else process.env.DEVICE_TOKEN_PEPPER = saved;
    }
    await expect(renderSketch({ ...BASE, pairing_code: "devtok_abc" }, await tempDir())).rejects.toThrow(SketchRenderError);
  });

  it("refuses an https API without a root CA, and defines insecure TLS only when asked", async () => {
    await expect(renderSketch({ ...BASE, root_ca_pem: undefined }, await tempDir())).rejects.toThrow(/root_ca_pem/);
    const secure = (await render(BASE)).tree.get("lifelog_config.h")!.toString();
    expect(secure).not.toContain("LIFELOG_DEV_INSECURE_TLS");
    const dev = (await render({ ...BASE, api_base_url: "http://127.0.0.1:54321/functions/v1", root_ca_pem: undefined, dev_insecure_tls: true }))
      .tree.get("lifelog_config.h")!.toString();
    expect(dev).toContain("#define LIFELOG_DEV_INSECURE_TLS 1");
  });

  it("escapes PEM newlines, quotes, backslashes and UTF-8 so the literals round-trip", async () => {
    const { tree } = await render(BASE);
    const header = tree.get("lifelog_config.h")!.toString();
    expect(parseCStringLiterals(defineBody(header, "LIFELOG_ROOT_CA_PEM")).join("")).toBe(PEM);
    expect(parseCStringLiterals(defineBody(header, "LIFELOG_WIFI_NETWORKS"))).toEqual([
      'Home "Net"', NASTY_PASSWORD, "Café hotspot", "hotspot-pass-42",
    ]);
    expect(parseCStringLiterals(defineBody(header, "LIFELOG_TIME_ZONE"))).toEqual([BASE.time_zone]);
  });
});

describe("privacy LED pin", () => {
  it("is rendered from the config and refuses a pin the board uses (GPIO21 is the card's chip-select)", async () => {
    const { result, tree } = await render({ ...BASE, privacy_led_pin: 5 });
    expect(tree.get("lifelog_config.h")!.toString()).toContain("#define LIFELOG_PRIVACY_LED_PIN 5\n");
    expect(result.sketchDir).toBeTruthy();
    const err = await renderSketch({ ...BASE, privacy_led_pin: 21 }, await tempDir()).catch((e) => e);
    expect(err).toBeInstanceOf(SketchRenderError);
    expect(String(err.message)).toMatch(/privacy_led_pin must be one of/);
  });
});

describe("host compile of the rendered sketch (no ESP32 toolchain here)", () => {
  it("compiles the core in the Arduino src/ layout and the glue against declaration stubs", async () => {
    const { result, tree } = await render(BASE);
    const dir = result.sketchDir;
    const coreSources = [...tree.keys()].filter((p) => /^src\/[^/]+\.cpp$/.test(p)).map((p) => join(dir, p));
    expect(coreSources.length).toBeGreaterThan(5);
    await run("g++", ["-std=gnu++17", "-fsyntax-only", `-I${dir}`, ...coreSources, "-DLIFELOG_CJSON_FLAT_INCLUDE", "-I/usr/include/cjson"]);

    const glue = [...tree.keys()].filter((p) => /^[^/]+\.cpp$/.test(p)).map((p) => join(dir, p));
    expect(glue.length).toBeGreaterThanOrEqual(10);
    const flags = ["-std=gnu++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", `-I${dir}`, `-I${STUBS}`];
    await run("g++", [...flags, ...glue]);
    await run("g++", [...flags, "-x", "c++", join(dir, "lifelog_camera.ino")]);
  }, 30_000);

  it("the generated literals mean the same bytes to a C++ compiler", async () => {
    const { result } = await render(BASE);
    const out = await tempDir();
    const program = join(out, "print_config.cpp");
    await writeFile(
      program,
      '#include <cstdio>\n#include "lifelog_config.h"\nstruct N { const char* s; const char* p; };\n' +
        "static const N nets[] = {LIFELOG_WIFI_NETWORKS};\n" +
        'int main() { fputs(LIFELOG_ROOT_CA_PEM, stdout); for (const N& n : nets) printf("%s|%s\\n", n.s, n.p); }\n',
    );
    await run("g++", ["-std=gnu++17", `-I${result.sketchDir}`, program, "-o", join(out, "print_config")]);
    const { stdout } = await run(join(out, "print_config"));
    expect(stdout).toBe(`${PEM}Home "Net"|${NASTY_PASSWORD}\nCafé hotspot|hotspot-pass-42\n`);
  }, 30_000);
});

describe("library mode: the sketch takes the core from the installed LifelogCore library", () => {
  it("holds only glue and config: the bundled render minus src/, with the same glue files byte for byte", async () => {
    const bundled = await render(BASE);
    const library = await render(BASE, "library");
    const core = join(import.meta.dirname, "../../firmware-config/core");
    const coreFiles = [
      ...(await readdir(join(core, "include", "lifelog"))).map((f) => join(core, "include", "lifelog", f)),
      ...(await readdir(join(core, "src"))).map((f) => join(core, "src", f)),
    ];
    const coreContents = await Promise.all(coreFiles.map((f) => readFile(f)));
    for (const [path, content] of library.tree) {
      expect(path.includes("/"), path).toBe(false);
      expect(coreContents.some((c) => c.equals(content)), `${path} is a core file`).toBe(false);
    }
    const withoutCore = [...bundled.tree.keys()].filter((p) => !p.startsWith("src/")).sort();
    expect([...library.tree.keys()].sort()).toEqual(withoutCore);
    for (const path of withoutCore) {
      if (path === "lifelog_core.h" || path === "sketch.yaml") continue;
      expect(library.tree.get(path)!.equals(bundled.tree.get(path)!), path).toBe(true);
    }
    expect(library.tree.get("lifelog_core.h")!.toString()).toContain(`#include <${LIBRARY_NAME}.h>`);
    expect(bundled.tree.get("lifelog_core.h")!.toString()).toContain(`#include "src/${LIBRARY_NAME}.h"`);
    expect(library.tree.get("sketch.yaml")!.toString()).toContain("arduino-cli lib install --zip-path");
  });

  it("compiles on the host together with the unpacked library zip, and not without it", async () => {
    const { result } = await render(BASE, "library");
    const dir = result.sketchDir;
    const lib = await tempDir("lifelog-lib-");
    const zip = join(lib, "lifelog-core.zip");
    await writeLibraryZip(zip);
    await run("unzip", ["-q", zip, "-d", lib]);
    const libSrc = join(lib, LIBRARY_NAME, "src");
    // As arduino-cli builds an installed library: its src/ on the include path of every sketch
    // file, and its own sources compiled with that path too.
    const glue = (await readdir(dir)).filter((f) => f.endsWith(".cpp")).map((f) => join(dir, f));
    const flags = ["-std=gnu++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", `-I${dir}`, `-I${STUBS}`];
    await run("g++", [...flags, `-I${libSrc}`, ...glue]);
    await run("g++", [...flags, `-I${libSrc}`, "-x", "c++", join(dir, "lifelog_camera.ino")]);
    const librarySources = (await readdir(libSrc)).filter((f) => f.endsWith(".cpp")).map((f) => join(libSrc, f));
    await run("g++", ["-std=gnu++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", `-I${libSrc}`, ...librarySources, "-DLIFELOG_CJSON_FLAT_INCLUDE", "-I/usr/include/cjson"]);

    const without = await run("g++", [...flags, join(dir, "device_app.cpp")]).then(() => "", (e: { stderr: string }) => e.stderr);
    expect(without).toMatch(/LifelogCore\.h: No such file or directory/);
  }, 120_000);
});

describe("release public key", () => {
  it("is rendered as LIFELOG_RELEASE_PUBLIC_KEY_HEX (lower case), empty without one, and a bad one is refused", async () => {
    const key = "0123456789ABCDEF".repeat(4);
    const header = (await render({ ...BASE, release_public_key: key })).tree.get("lifelog_config.h")!.toString();
    expect(parseCStringLiterals(defineBody(header, "LIFELOG_RELEASE_PUBLIC_KEY_HEX"))).toEqual([key.toLowerCase()]);
    const none = (await render(BASE)).tree.get("lifelog_config.h")!.toString();
    expect(parseCStringLiterals(defineBody(none, "LIFELOG_RELEASE_PUBLIC_KEY_HEX"))).toEqual([""]);
    for (const bad of [key.slice(2), `${key}00`, `${key.slice(2)}zz`]) {
      const err = await renderSketch({ ...BASE, release_public_key: bad }, await tempDir()).catch((e) => e);
      expect(err).toBeInstanceOf(SketchRenderError);
      expect(String(err.message)).toMatch(/release_public_key[\s\S]*must be the 32-byte Ed25519 public key as 64 hex digits/);
    }
  });

  it("refuses to write a private key, wherever it was put", async () => {
    const withPrivate = `${PEM}-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n`;
    const out = await tempDir();
    const err = await renderSketch({ ...BASE, root_ca_pem: withPrivate }, out).catch((e) => e);
    expect(err).toBeInstanceOf(SketchRenderError);
    expect(String(err.message)).toBe("refusing to write lifelog_config.h: it contains a private key");
    expect(await readdir(out)).toEqual([]);
  });
});
