// `ca` and `pair --write-config` fetching the API host's root certificate, against local HTTPS
// servers whose certificates a test CA issued. The CLI runs with NODE_EXTRA_CA_CERTS=<ca.pem> so
// Node trusts that CA; the CA is not one of Node's built-in roots (tls.rootCertificates).
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chooseRoot, FALLBACK_ROOT_NAMES, fallbackRoots, fetchRootCa, findIssuer } from "../../scripts/cli/root-ca.ts";
import { freePort } from "../../scripts/stack/ports.ts";
import { buildOnce, issueCert, makeCa, makeTlsFixtures, runCli, tempDir, type TlsFixtures } from "./harness.ts";

let dir: string;
let tls: TlsFixtures;
let caFile: string;
const servers: Server[] = [];
/** leaf + CA; only the leaf; leaf + intermediate (issued by the CA "root2"). */
const port = { full: 0, leafOnly: 0, intermediate: 0 };
let root2: string;

const PAIRING_CODE = "BCDF-GHJK";
const trusted = () => ({ NODE_EXTRA_CA_CERTS: caFile });
const normalized = (pem: string) => new X509Certificate(pem).toString();
const pemsOf = (bundle: string) => bundle.split(/(?=-----BEGIN CERTIFICATE-----)/).filter((p) => p.includes("BEGIN"));
// Node's root store holds every fallback root by name (checked here, so a store without one fails loudly).
const FALLBACKS = FALLBACK_ROOT_NAMES.length;

/** An HTTPS server answering POST /functions/v1/devices/pair like the devices API. */
async function serve(key: string, cert: string): Promise<number> {
  const server = createServer({ key, cert }, (req, res) => {
    const ok = req.method === "POST" && req.url === "/functions/v1/devices/pair";
    res.writeHead(ok ? 201 : 404, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        ok
          ? { device_id: "00000000-0000-4000-8000-000000000001", pairing_code: PAIRING_CODE, expires_at: new Date(Date.now() + 600_000).toISOString() }
          : { error: { code: "not_found", message: "No route." } },
      ),
    );
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as { port: number }).port;
}

const api = (p: number) => `https://127.0.0.1:${p}/functions/v1`;
const origin = (p: number) => `https://127.0.0.1:${p}`;

beforeAll(async () => {
  await buildOnce();
  dir = await tempDir();
  tls = await makeTlsFixtures(join(dir, "tls"));
  caFile = join(tls.dir, "ca.pem");
  root2 = await makeCa(tls.dir, "root2");
  const intermediate = await issueCert(tls.dir, "int", "root2", { ca: true });
  const leaf2 = await issueCert(tls.dir, "leaf2", "int");
  port.full = await serve(tls.serverKey, tls.serverCert + tls.ca);
  port.leafOnly = await serve(tls.serverKey, tls.serverCert);
  port.intermediate = await serve(await readFile(join(tls.dir, "leaf2.key"), "utf8"), leaf2 + intermediate);
}, 30_000);
afterAll(() => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))));

describe("ca", () => {
  it("writes the CA at the end of the server's chain into root_ca_pem, keeping comments and settings", async () => {
    const config = join(dir, "camera.yaml");
    const original = `# my camera\napi_base_url: ${api(port.full)} # the API\nwifi_networks:\n  - ssid: home # 2.4 GHz\n    password: correct horse\n`;
    await writeFile(config, original);
    const r = await runCli(["ca", config], { env: trusted() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        `Root certificate of ${origin(port.full)}: CN=Test ca CA (valid until ${new Date(new X509Certificate(tls.ca).validTo).toISOString().slice(0, 10)})`,
        "It comes from here because the server sends it at the end of its certificate chain.",
        `Wrote it and ${FALLBACKS} fallback roots to ${config} as root_ca_pem.`,
        `Next: lifelog-devices render ${config} --out build`,
        "",
      ].join("\n"),
    );
    const text = await readFile(config, "utf8");
    expect(text.startsWith(original)).toBe(true);
    const { parse } = await import("yaml");
    const written = parse(text).root_ca_pem as string;
    // The host's current root first (the one mbedTLS meets in this chain), then the fallbacks.
    expect(written.startsWith(normalized(tls.ca))).toBe(true);
    expect(new X509Certificate(written).fingerprint256).toBe(new X509Certificate(tls.ca).fingerprint256);
    const names = pemsOf(written).map((p) => /CN=([^\n]+)/.exec(new X509Certificate(p).subject)?.[1]);
    expect(names).toEqual(["Test ca CA", ...FALLBACK_ROOT_NAMES]);

    // The config is now complete for an https API; a second run changes nothing.
    expect((await runCli(["render", config, "--out", join(dir, "build")])).code).toBe(0);
    const rendered = await readFile(config, "utf8"); // render added the portal's credentials
    const again = await runCli(["ca", config, "--json"], { env: trusted() });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ subject: "CN=Test ca CA", source: "chain", config, written: "unchanged", pem: normalized(tls.ca), bundle_roots: 1 + FALLBACKS });
    expect(await readFile(config, "utf8")).toBe(rendered);
  });

  it("prints the PEM with --print and writes nothing", async () => {
    const r = await runCli(["ca", "--print", "--api-base", api(port.full)], { env: trusted() });
    expect(r.code, r.stderr).toBe(0);
    expect(pemsOf(r.stdout)[0]).toBe(normalized(tls.ca));
    expect(pemsOf(r.stdout)).toHaveLength(1 + FALLBACKS);
    expect(fallbackRoots(tls.ca)).toHaveLength(FALLBACKS);
  });

  it("refuses a server that sends only its leaf when no built-in root issued it (exit 1)", async () => {
    const config = join(dir, "leaf-only.yaml");
    const original = `api_base_url: ${api(port.leafOnly)}\n`;
    await writeFile(config, original);
    const r = await runCli(["ca", config], { env: trusted() });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `Asking ${origin(port.leafOnly)} for its certificates…\n` +
        `error: ${origin(port.leafOnly)} does not send its root certificate, and none of the root certificates built into Node.js issued its chain ` +
        "(last issuer: CN=Test ca CA); ask whoever runs the server for its root CA certificate and put it in root_ca_pem yourself\n",
    );
    expect(await readFile(config, "utf8")).toBe(original);
  });

  it("refuses a server this computer does not trust (exit 1)", async () => {
    const r = await runCli(["ca", "--print", "--api-base", api(port.full)], { env: { NODE_EXTRA_CA_CERTS: undefined } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `error: ${origin(port.full)} answered, but this computer does not trust its certificate (it is not signed by any certificate authority this computer knows). ` +
        "This tool only copies a root certificate from a server it can trust; if the server uses its own certificate authority, " +
        "put that authority's certificate in root_ca_pem yourself\n",
    );
  });

  it("says an http API needs no root certificate (exit 2)", async () => {
    const config = join(dir, "local.yaml");
    await writeFile(config, "api_base_url: http://192.168.1.20:54321/functions/v1\n");
    const r = await runCli(["ca", config]);
    expect(r).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "error: http://192.168.1.20:54321/functions/v1 is plain http: the camera needs no root certificate for it (root_ca_pem is only for https addresses)\n",
    });
  });

  it("says when the host is unreachable (exit 4)", async () => {
    const closed = await freePort();
    const r = await runCli(["ca", "--print", "--api-base", api(closed)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`error: cannot reach ${origin(closed)}: the connection was refused (nothing is listening there)\n`);
  });

  it("has --help, needs a config, and still reports other config mistakes", async () => {
    const help = await runCli(["ca", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("lifelog-devices ca: put the API host's root certificate (root_ca_pem) into a config\n");
    expect(await runCli(["ca"])).toMatchObject({ code: 2, stderr: "error: ca needs a config file (or --api-base <url> --print)\n" });
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, `api_base_url: ${api(port.full)}\nframe_size: HUGE\n`);
    const r = await runCli(["ca", bad], { env: trusted() });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`error: ${bad} is not a valid device config (1 problem):\n  bad.yaml:2:13: frame_size: must be one of QXGA, UXGA, SXGA, HD, XGA, SVGA, VGA, CIF, QVGA\n`);
  });
});

describe("root-ca helpers", () => {
  it("finds the issuer of a certificate among candidate PEMs", () => {
    expect(findIssuer(tls.serverCert, [tls.otherCa, tls.ca])?.fingerprint256).toBe(new X509Certificate(tls.ca).fingerprint256);
    expect(findIssuer(tls.serverCert, [tls.otherCa])).toBeUndefined();
    expect(findIssuer(tls.serverCert, ["not a certificate"])).toBeUndefined();
  });

  it("takes a self-signed last certificate from the chain, otherwise the trusted issuer", () => {
    const leaf = new X509Certificate(tls.serverCert);
    const ca = new X509Certificate(tls.ca);
    const fromChain = chooseRoot([leaf, ca], []);
    expect(fromChain?.cert).toBe(ca);
    expect(fromChain?.source).toBe("chain");
    expect(chooseRoot([leaf], [tls.otherCa, tls.ca])?.source).toBe("trust-store");
    expect(chooseRoot([leaf], [tls.otherCa])).toBeUndefined();
  });

  it("takes the root from the trust store when the server sends leaf + intermediate", async () => {
    const root = await fetchRootCa(api(port.intermediate), { extraTrust: [root2], timeoutMs: 5_000 });
    expect(root).toMatchObject({ source: "trust-store", subject: "CN=Test root2 CA", pem: normalized(root2) });
  });
});

describe("pair --write-config with an https API", () => {
  const pair = (config: string, p: number) =>
    runCli(["pair", "--token", "test-token", "--api-base", api(p), "--write-config", config], { env: trusted() });

  it("puts the root certificate into the new config, so render works right away", async () => {
    const config = join(dir, "paired.yaml");
    const r = await pair(config, port.full);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Created ${config} with the pairing code.\nAdded the root certificate of ${origin(port.full)} as root_ca_pem: CN=Test ca CA.\n`);
    const { parse } = await import("yaml");
    expect(parse(await readFile(config, "utf8"))).toEqual({
      api_base_url: api(port.full), pairing_code: PAIRING_CODE, root_ca_pem: expect.stringMatching(new RegExp(`^${normalized(tls.ca).replace(/[+/]/g, "\\$&")}`)),
    });
    const render = await runCli(["render", config, "--out", join(dir, "paired-build")]);
    expect(render.code, render.stderr).toBe(0);
    expect(existsSync(join(dir, "paired-build", "lifelog_camera"))).toBe(true);
  });

  it("keeps going without it and says to run `ca` when it cannot be fetched", async () => {
    const config = join(dir, "paired-leaf.yaml");
    const r = await pair(config, port.leafOnly);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: could not fetch the API's root certificate; run \`lifelog-devices ca ${config}\` to add root_ca_pem (it says why)\n`);
    expect(await readFile(config, "utf8")).not.toContain("root_ca_pem");
  });
});
