import { parse } from "yaml";

import type { Command } from "../command.ts";
import { invalidConfigError, parseConfigText, readConfigText, updateConfigFile } from "../config-file.ts";
import { usageError } from "../errors.ts";
import { FALLBACK_ROOT_NAMES, fetchRootCa, requireHttps, rootBundle, type RootCa } from "../root-ca.ts";

/** Where the root came from, in words. */
function describeRootSource(source: RootCa["source"]): string {
  return source === "chain"
    ? "the server sends it at the end of its certificate chain"
    : "it is one of the root certificates built into Node.js, and it issued the server's certificates";
}

export const ca: Command = {
  name: "ca",
  summary: "put the API host's root certificate (root_ca_pem) into a config",
  help: `Usage:
  lifelog-devices ca <config file> [--api-base <url>] [--print]
  lifelog-devices ca --api-base <url> --print

A camera talking to an https API trusts the root certificates in root_ca_pem of its config.
This connects to the API's host, checks its certificate the way a browser would (it refuses a
server this computer does not trust), and writes its root into the config, keeping the file's
comments and other settings. The root is
  - the self-signed certificate at the end of the chain the server sends, or
  - the root certificate built into Node.js that issued the server's chain.
After it come fallback roots (${FALLBACK_ROOT_NAMES.join(", ")}), so the camera keeps working
when the host's certificates move to one of those authorities.
\`pair --write-config\` does this already when it creates a config for an https API.

Flags:
  --api-base <url>   ask this URL's host instead of the config's api_base_url
  --only-current     the host's current root alone, no fallbacks
  --print            print the certificates (PEM) on stdout instead of writing them`,
  options: { "api-base": { type: "string" }, print: { type: "boolean" }, "only-current": { type: "boolean" } },
  async run(values, positionals, { out }) {
    const print = values.print === true;
    const apiBaseFlag = values["api-base"] as string | undefined;
    if (positionals.length > 1) throw usageError(`unexpected argument: ${positionals[1]}`);
    const configPath = positionals[0] as string | undefined;
    if (configPath === undefined && !(print && apiBaseFlag)) throw usageError("ca needs a config file (or --api-base <url> --print)");

    const current = configPath === undefined ? undefined : await readConfig(configPath);
    const apiBase = (apiBaseFlag ?? current?.apiBase)!;
    const origin = requireHttps(apiBase).origin;
    const root = await out.step(`Asking ${origin} for its certificates`, () => fetchRootCa(apiBase));
    const bundle = rootBundle(root, values["only-current"] !== true);

    let written: "created" | "updated" | "unchanged" | null = null;
    if (!print && configPath !== undefined) {
      written = sameCertificate(current?.rootCaPem, bundle) ? "unchanged" : await updateConfigFile(configPath, { root_ca_pem: bundle });
    }
    out.result({
      api_base_url: apiBase,
      subject: root.subject,
      source: root.source,
      fingerprint256: root.fingerprint256,
      valid_to: root.validTo,
      config: print ? null : configPath,
      written,
      pem: root.pem,
      bundle_roots: bundle.split("-----BEGIN CERTIFICATE-----").length - 1,
    });
    if (print) {
      out.line(bundle.trimEnd());
      return;
    }
    out.line(`Root certificate of ${origin}: ${root.subject} (valid until ${root.validTo.slice(0, 10)})`);
    out.line(`It comes from here because ${describeRootSource(root.source)}.`);
    const fallbacks = bundle.split("-----BEGIN CERTIFICATE-----").length - 2;
    const what = fallbacks > 0 ? `it and ${fallbacks} fallback ${fallbacks === 1 ? "root" : "roots"}` : "it";
    out.line(written === "unchanged" ? `${configPath} already has ${what} as root_ca_pem.` : `Wrote ${what} to ${configPath} as root_ca_pem.`)
    out.line(`Next: lifelog-devices render ${configPath} --out build`);
  },
};

/**
 * The config's api_base_url and root_ca_pem (undefined unless the whole config is valid), from one
 * read. The config must be valid except for root_ca_pem, which may be missing or wrong: that is
 * what this command fixes.
 */
async function readConfig(path: string): Promise<{ apiBase: string; rootCaPem: string | undefined }> {
  const text = await readConfigText(path);
  const result = parseConfigText(text);
  if (result.ok) return { apiBase: result.config.api_base_url, rootCaPem: result.config.root_ca_pem };
  const problems = result.problems.filter((p) => p.path !== "root_ca_pem");
  if (problems.length > 0) throw invalidConfigError(path, problems);
  // Only root_ca_pem is wrong, so the YAML itself is fine. parse() also prints YAML warnings (e.g. an unresolved tag).
  return { apiBase: (parse(text) as { api_base_url: string }).api_base_url, rootCaPem: undefined };
}

function sameCertificate(current: string | undefined, pem: string): boolean {
  return current !== undefined && current.replace(/\r\n/g, "\n").trim() === pem.trim();
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
