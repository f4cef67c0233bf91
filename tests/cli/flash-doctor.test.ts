import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { sql, stack, tableCounts } from "../support/stack.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { buildOnce, makeTlsFixtures, runCli, tempDir } from "./harness.ts";

const FQBN = "esp32:esp32:XIAO_ESP32S3:PSRAM=opi";
const INDEX = "https://raw.githubusercontent.com/espressif/arduino-esp32/gh-pages/package_esp32_index.json";

let dir: string;
let sketch: string;
let image: string;

/** A stand-in tool: appends its argv (one line, arguments separated by |) to a log, prints progress. */
async function standIn(binDir: string, name: string, log: string, failOn?: string) {
  await mkdir(binDir, { recursive: true });
  const path = join(binDir, name);
  await writeFile(
    path,
    `#!/bin/sh\n(IFS='|'; printf '%s\\n' "$*") >> ${log}\necho "${name}: working on $1"\n` +
      (failOn ? `if [ "$1" = "${failOn}" ]; then echo "${name}: boom" >&2; exit 7; fi\n` : "") +
      "exit 0\n",
  );
  await chmod(path, 0o755);
}

const loggedCalls = async (log: string) => (await readFile(log, "utf8")).trimEnd().split("\n").map((l) => l.split("|"));

beforeAll(async () => {
  await buildOnce();
  dir = await tempDir();
  await writeFile(join(dir, "camera.yaml"), "api_base_url: http://192.168.1.20:54321/functions/v1\nwifi_networks: [{ssid: home, password: correct horse}]\n");
  expect((await runCli(["render", "camera.yaml", "--out", "build"], { cwd: dir })).code).toBe(0);
  expect((await runCli(["nvs", "camera.yaml", "--out", "camera.bin"], { cwd: dir })).code).toBe(0);
  sketch = join(dir, "build/lifelog_camera");
  image = join(dir, "camera.bin");
});

describe("flash", () => {
  it("installs the core, compiles and uploads with arduino-cli from PATH, streaming its output", async () => {
    const bin = join(dir, "bin-ok");
    const log = join(dir, "arduino-ok.log");
    await standIn(bin, "arduino-cli", log);
    const r = await runCli(["flash", sketch, "--port", "/dev/ttyACM0"], { env: { PATH: bin } });
    expect(r.code, r.stderr).toBe(0);
    expect(await loggedCalls(log)).toEqual([
      ["core", "update-index", "--additional-urls", INDEX],
      ["core", "install", "esp32:esp32", "--additional-urls", INDEX],
      ["compile", "--fqbn", FQBN, sketch],
      ["upload", "--fqbn", FQBN, "--port", "/dev/ttyACM0", sketch],
    ]);
    expect(r.stderr).toContain(`[3/4] arduino-cli compile --fqbn ${FQBN} ${sketch}\narduino-cli: working on compile\n`);
    expect(r.stdout).toBe("Done: compiled and uploaded with arduino-cli.\nThe camera restarts with the new firmware; it activates with its pairing code once it is online.\n");
  });

  it("stops at the first failing step with exit 1", async () => {
    const bin = join(dir, "bin-fail");
    const log = join(dir, "arduino-fail.log");
    await standIn(bin, "arduino-cli", log, "compile");
    const r = await runCli(["flash", sketch, "--port", "/dev/ttyACM0"], { env: { PATH: bin } });
    expect(r.code).toBe(1);
    expect((await loggedCalls(log)).map((c) => c[0])).toEqual(["core", "core", "compile"]);
    expect(r.stderr).toContain("arduino-cli: boom\n");
    expect(r.stderr).toContain(`error: arduino-cli compile --fqbn ${FQBN} ${sketch} failed with exit code 7; see its output above\n`);
  });

  it("prints the exact commands when arduino-cli is not on PATH (exit 1) or with --dry-run (exit 0)", async () => {
    const empty = join(dir, "bin-empty");
    await mkdir(empty, { recursive: true });
    const r = await runCli(["flash", sketch, "--port", "/dev/ttyACM0"], { env: { PATH: empty } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        "arduino-cli is not on PATH. Run these commands yourself:",
        `  arduino-cli core update-index --additional-urls ${INDEX}`,
        `  arduino-cli core install esp32:esp32 --additional-urls ${INDEX}`,
        `  arduino-cli compile --fqbn ${FQBN} ${sketch}`,
        `  arduino-cli upload --fqbn ${FQBN} --port /dev/ttyACM0 ${sketch}`,
        "",
      ].join("\n"),
    );
    expect(r.stderr).toContain("error: arduino-cli is not on PATH, so nothing was flashed;");
    const dry = await runCli(["flash", sketch, "--port", "COM5", "--dry-run", "--json"], { env: { PATH: empty } });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ ran: false, commands: expect.arrayContaining([`arduino-cli upload --fqbn ${FQBN} --port COM5 ${sketch}`]) });
  });

  it("writes only the NVS partition with esptool at 0x9000", async () => {
    const bin = join(dir, "bin-esptool");
    const log = join(dir, "esptool.log");
    await standIn(bin, "esptool.py", log);
    const r = await runCli(["flash", "--nvs-only", image, "--port", "/dev/ttyUSB0"], { env: { PATH: bin } });
    expect(r.code, r.stderr).toBe(0);
    expect(await loggedCalls(log)).toEqual([["--chip", "esp32s3", "--port", "/dev/ttyUSB0", "write_flash", "0x9000", image]]);
    expect(r.stdout).toBe("Done: flashed with esptool.py.\nThe camera keeps its firmware and reads the new settings on its next boot.\n");
  });

  it("refuses missing --port, a folder that is not a sketch and a file that is not an NVS image", async () => {
    expect(await runCli(["flash", sketch])).toMatchObject({ code: 2, stderr: "error: --port is required (the camera's serial port, e.g. /dev/ttyACM0)\n" });
    expect((await runCli(["flash", dir, "--port", "p"])).stderr).toBe(
      `error: ${dir} is not a sketch folder (no lifelog_camera.ino); give the folder \`render\` wrote\n`,
    );
    const bad = await runCli(["flash", "--nvs-only", join(dir, "camera.yaml"), "--port", "p"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*camera\.yaml is not a valid NVS image: /);
  });
});

describe("doctor", () => {
  it("checks a good config against the running API without changing anything", async () => {
    const config = join(dir, "local.yaml");
    await writeFile(config, `api_base_url: ${stack.api_base}\nwifi_networks: [{ssid: home, password: correct horse}]\n`);
    const before = await tableCounts();
    const [windowsBefore] = await sql`select count(*)::int as n from device_api.rate_limit_windows`;
    const r = await runCli(["doctor", config]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const host = new URL(stack.api_base).hostname;
    expect(r.stdout).toContain(`  ✓ api: the devices API answers at ${stack.api_base}/devices/activate\n`);
    expect(r.stdout).toContain(`  ! api address: api_base_url uses ${host}, which on the camera means the camera itself;`);
    expect(r.stdout).toContain("  ! pairing code: none in the config: type one into the camera's setup portal");
    expect(r.stdout).toContain("Everything the doctor can check from here looks right.\n");
    expect(await tableCounts()).toEqual(before);
    expect((await sql`select count(*)::int as n from device_api.rate_limit_windows`)[0]).toEqual(windowsBefore);
  });

  it("says the API is unreachable (exit 4) or the URL is wrong (exit 1)", async () => {
    const port = await freePort();
    const down = join(dir, "down.yaml");
    await writeFile(down, `api_base_url: http://127.0.0.1:${port}/functions/v1\n`);
    const r = await runCli(["doctor", down, "--json"]);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks).toContainEqual({
      check: "api",
      status: "fail",
      message: `cannot reach http://127.0.0.1:${port}: the connection was refused (nothing is listening there). Is the address right and the server running?`,
    });
    expect(r.stderr).toContain("error: doctor found 1 problem (marked ✗ above)\n");

    const wrong = join(dir, "wrong.yaml");
    await writeFile(wrong, `api_base_url: ${stack.supabase_url}\n`);
    const w = await runCli(["doctor", wrong]);
    expect(w.code).toBe(1);
    expect(w.stdout).toContain(`  ✗ api: ${stack.supabase_url}/devices/activate does not exist: check api_base_url (it normally ends in /functions/v1)\n`);
  });

  describe("TLS", () => {
    let server: Server;
    let port: number;
    let ca: string;
    let otherCa: string;

    beforeAll(async () => {
      const tls = await makeTlsFixtures(join(dir, "tls"));
      ca = tls.ca;
      otherCa = tls.otherCa;
      // Answers like the devices API does to an empty activation request.
      server = createServer({ key: tls.serverKey, cert: tls.serverCert }, (req, res) => {
        const ok = req.method === "POST" && req.url === "/functions/v1/devices/activate";
        res.writeHead(ok ? 400 : 404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: ok ? { code: "invalid_request", message: "Invalid request body." } : { code: "not_found", message: "No route." } }));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      port = (server.address() as { port: number }).port;
    }, 30_000);
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const configWith = async (name: string, pem: string) => {
      const path = join(dir, name);
      await writeFile(path, `api_base_url: https://127.0.0.1:${port}/functions/v1\nroot_ca_pem: |\n${pem.trim().split("\n").map((l) => `  ${l}`).join("\n")}\n`);
      return path;
    };

    it("accepts a certificate signed by the config's root CA", async () => {
      const r = await runCli(["doctor", await configWith("tls-ok.yaml", ca)]);
      expect(r.stdout).toContain("  ✓ tls: the server's certificate is signed by the root CA in the config\n");
      expect(r.stdout).toContain(`  ✓ api: the devices API answers at https://127.0.0.1:${port}/functions/v1/devices/activate\n`);
    });

    it("explains a certificate that the config's root CA did not sign (exit 1)", async () => {
      const r = await runCli(["doctor", await configWith("tls-bad.yaml", otherCa)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `  ✗ tls: https://127.0.0.1:${port} answered, but its certificate is not signed by the root CA in your config; the camera would refuse to connect. Put the server's root CA certificate in root_ca_pem\n`,
      );
    });
  });
});
