import { parse } from "yaml";

import type { Command } from "../command.ts";
import { invalidConfigError, parseConfigText, readConfigText, updateConfigFile } from "../config-file.ts";
import { usageError } from "../errors.ts";
import { fetchRootCa, requireHttps, type RootCa } from "../root-ca.ts";

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

A camera talking to an https API trusts exactly one root certificate: root_ca_pem in its config.
This connects to the API's host, checks its certificate the way a browser would (it refuses a
server this computer does not trust), and writes the root into the config, keeping the file's
comments and other settings. The root is
  - the self-signed certificate at the end of the chain the server sends, or
  - the root certificate built into Node.js that issued the server's chain.
\`pair --write-config\` does this already when it creates a config for an https API.

Flags:
  --api-base <url>   ask this URL's host instead of the config's api_base_url
  --print            print the certificate (PEM) on stdout instead of writing it`,
  options: { "api-base": { type: "string" }, print: { type: "boolean" } },
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

    let written: "created" | "updated" | "unchanged" | null = null;
    if (!print && configPath !== undefined) {
      written = sameCertificate(current?.rootCaPem, root.pem) ? "unchanged" : await updateConfigFile(configPath, { root_ca_pem: root.pem });
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
    });
    if (print) {
      out.line(root.pem.trimEnd());
      return;
    }
    out.line(`Root certificate of ${origin}: ${root.subject} (valid until ${root.validTo.slice(0, 10)})`);
    out.line(`It comes from here because ${describeRootSource(root.source)}.`);
    out.line(written === "unchanged" ? `${configPath} already has it as root_ca_pem.` : `Wrote it to ${configPath} as root_ca_pem.`);
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
