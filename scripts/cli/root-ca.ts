// Finds the root CA certificate a camera needs for an https API: connects with node:tls, with
// normal verification, and takes the root either from the end of the chain the server sends
// (a self-signed certificate) or from Node's built-in list of root certificates (the one that
// issued the server's chain). It never takes a root from a server this computer does not trust.
//
// Why two handshakes: on a verified connection, Node's getPeerCertificate(true) fills in the
// chain from this computer's trust store (including NODE_EXTRA_CA_CERTS), so it cannot tell a
// root the server sent from one this computer happened to have. A second handshake with an empty
// trust store shows only what the server sends. It is used for nothing else: the answer is always
// a certificate of the verified chain, or one of Node's built-in roots.
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { connect, type ConnectionOptions, type DetailedPeerCertificate, rootCertificates, type TLSSocket } from "node:tls";

import { certificateFailureReason, networkFailureReason } from "./api.ts";
import { CliError, ExitCode } from "./errors.ts";

export interface RootCa {
  pem: string;
  /** The root's subject, e.g. "C=US, O=Internet Security Research Group, CN=ISRG Root X1". */
  subject: string;
  /** "chain": the server sends it; "trust-store": Node's built-in roots (or extraTrust). */
  source: "chain" | "trust-store";
  fingerprint256: string;
  validTo: string;
}

export interface FetchRootCaOptions {
  timeoutMs?: number;
  /** More trusted root certificates (PEM): trusted for the connection and searched for the root. */
  extraTrust?: string[];
}

const DEFAULT_TIMEOUT_MS = 10_000;

const noCaNeededMessage = (url: string) =>
  `${url} is plain http: the camera needs no root certificate for it (root_ca_pem is only for https addresses)`;

const untrustedMessage = (origin: string, reason: string) =>
  `${origin} answered, but this computer does not trust its certificate (${reason}). ` +
  "This tool only copies a root certificate from a server it can trust; if the server uses its own certificate authority, " +
  "put that authority's certificate in root_ca_pem yourself";

const noIssuingRootMessage = (origin: string, issuer: string) =>
  `${origin} does not send its root certificate, and none of the root certificates built into Node.js issued its chain ` +
  `(last issuer: ${issuer}); ask whoever runs the server for its root CA certificate and put it in root_ca_pem yourself`;

/** "CN=x\nO=y" → "CN=x, O=y". */
const describeName = (name: string) => name.split("\n").filter(Boolean).join(", ");

const isSelfSigned = (cert: X509Certificate) => cert.checkIssued(cert) && cert.verify(cert.publicKey);

/** The candidate (PEM) that issued `cert`: names match and its key verifies cert's signature. */
export function findIssuer(cert: X509Certificate | string, candidates: readonly string[]): X509Certificate | undefined {
  const child = typeof cert === "string" ? new X509Certificate(cert) : cert;
  for (const pem of candidates) {
    let candidate: X509Certificate;
    try {
      candidate = new X509Certificate(pem);
    } catch {
      continue;
    }
    if (candidate.ca && child.checkIssued(candidate) && child.verify(candidate.publicKey)) return candidate;
  }
  return undefined;
}

/**
 * The root for a chain as the server sends it (leaf first): its last certificate if that is
 * self-signed, otherwise the trusted certificate that issued it (or, for a chain that ends in a
 * cross-signed certificate, the trusted one that issued an earlier certificate).
 */
export function chooseRoot(sent: readonly X509Certificate[], trusted: readonly string[]): { cert: X509Certificate; source: RootCa["source"] } | undefined {
  const last = sent.at(-1);
  if (!last) return undefined;
  if (isSelfSigned(last)) return { cert: last, source: "chain" };
  for (let i = sent.length - 1; i >= 0; i--) {
    const issuer = findIssuer(sent[i], trusted);
    if (issuer) return { cert: issuer, source: "trust-store" };
  }
  return undefined;
}

/** The URL, parsed, if it is https; a usage error (saying why) otherwise. */
export function requireHttps(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`${url} is not a URL (expected https://…)`, ExitCode.usage);
  }
  if (parsed.protocol === "http:") throw new CliError(noCaNeededMessage(url), ExitCode.usage);
  if (parsed.protocol !== "https:") throw new CliError(`${url} is not an https URL`, ExitCode.usage);
  return parsed;
}

export async function fetchRootCa(url: string, opts: FetchRootCaOptions = {}): Promise<RootCa> {
  const parsed = requireHttps(url);
  const target: Target = {
    origin: parsed.origin,
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(parsed.port || 443),
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const extra = opts.extraTrust ?? [];
  // Without extraTrust Node's default store applies (built-in roots plus NODE_EXTRA_CA_CERTS).
  const verified = await handshake(target, { rejectUnauthorized: true, ...(extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {}) });
  const sent = await handshake(target, { rejectUnauthorized: false, ca: [] });
  if (sent[0]?.fingerprint256 !== verified[0]?.fingerprint256) {
    throw new CliError(`${target.origin} showed a different certificate on a second connection; try again`, ExitCode.failure);
  }
  const sentPrints = new Set(sent.map((c) => c.fingerprint256));
  let count = 0;
  while (count < verified.length && sentPrints.has(verified[count].fingerprint256)) count++;
  const chain = verified.slice(0, count);

  const root = chooseRoot(chain, [...rootCertificates, ...extra]);
  if (!root) throw new CliError(noIssuingRootMessage(target.origin, describeName(chain.at(-1)!.issuer)), ExitCode.failure);
  const pem = root.cert.toString();
  return {
    pem: pem.endsWith("\n") ? pem : `${pem}\n`,
    subject: describeName(root.cert.subject),
    source: root.source,
    fingerprint256: root.cert.fingerprint256,
    validTo: new Date(root.cert.validTo).toISOString(),
  };
}

interface Target {
  origin: string;
  host: string;
  port: number;
  timeoutMs: number;
}

/** One TLS handshake; the presented chain (leaf first), as Node reports it. */
function handshake(target: Target, tlsOptions: ConnectionOptions): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    // SNI carries host names only (RFC 6066); for an IP address the identity check uses `host`.
    const socket: TLSSocket = connect({ host: target.host, port: target.port, ...(isIP(target.host) ? {} : { servername: target.host }), ...tlsOptions });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CliError(`cannot reach ${target.origin}: it did not answer within ${Math.round(target.timeoutMs / 1000)} seconds`, ExitCode.unreachable));
    }, target.timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const chain = walkChain(socket.getPeerCertificate(true));
      socket.destroy();
      if (chain.length === 0) reject(new CliError(`${target.origin} sent no certificate`, ExitCode.failure));
      else resolve(chain);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectionError(target.origin, err));
    });
  });
}

function walkChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  // A root's issuerCertificate is the root itself: stop at a certificate already seen.
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  return chain;
}

function connectionError(origin: string, err: NodeJS.ErrnoException): CliError {
  const code = err.code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO/.test(code)) {
    const reason = certificateFailureReason(code, err.message, "it", "any certificate authority this computer knows");
    return new CliError(untrustedMessage(origin, reason), ExitCode.failure);
  }
  if (/^ERR_SSL|^EPROTO$/.test(code)) {
    return new CliError(`${origin} did not start a secure connection (${code}); is it really an https address?`, ExitCode.failure);
  }
  return new CliError(`cannot reach ${origin}: ${networkFailureReason(err)}`, ExitCode.unreachable);
}

/**
 * Roots a camera also trusts besides the one its API host uses today, so that a move of the
 * host's chain to another large CA does not cut the camera off for good (it cannot be re-flashed
 * from afar). These are the roots behind the certificates Supabase's hosts (Cloudflare) and most
 * of the web are issued under: Let's Encrypt (ISRG) and Google Trust Services. Taken from this
 * computer's Node.js root store by name; names it does not have are skipped.
 */
export const FALLBACK_ROOT_NAMES = ["ISRG Root X1", "ISRG Root X2", "GTS Root R1", "GTS Root R4"] as const;

export function fallbackRoots(except: string): { subject: string; pem: string }[] {
  const skip = new X509Certificate(except).fingerprint256;
  const found: { subject: string; pem: string }[] = [];
  for (const pem of rootCertificates) {
    const cert = new X509Certificate(pem);
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    if (cn && (FALLBACK_ROOT_NAMES as readonly string[]).includes(cn) && cert.fingerprint256 !== skip) {
      found.push({ subject: cert.subject.replace(/\n/g, ", "), pem: pem.endsWith("\n") ? pem : `${pem}\n` });
    }
  }
  return found;
}

/** root_ca_pem for a camera: the host's current root first, then the fallbacks (one PEM bundle). */
export function rootBundle(root: RootCa, withFallbacks = true): string {
  return [root.pem, ...(withFallbacks ? fallbackRoots(root.pem).map((r) => r.pem) : [])].join("");
}
