// Who an anonymous request comes from, for the limits that must not let one client hold
// back everyone else (activation). The address is read from the one header the platform in
// front of the function sets itself, overwriting anything the client sent: on hosted Supabase
// that is Cloudflare's CF-Connecting-IP (X-Forwarded-For is not: a client's own value stays
// at its left). An IPv6 client is its /64, which one subscriber usually holds whole. The
// database only ever sees a keyed hash of the source.
import { hmacSha256Hex } from "../crypto.ts";

export const DEFAULT_CLIENT_IP_HEADER = "cf-connecting-ip";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The eight hextets of an IPv6 address, or null. */
function ipv6Hextets(address: string): number[] | null {
  let text = address.toLowerCase();
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    if (!IPV4.test(v4[2])) return null;
    const [a, b, c, d] = v4[2].split(".").map(Number);
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parts = (s: string) => (s === "" ? [] : s.split(":"));
  const left = parts(halves[0]);
  const right = halves.length === 2 ? parts(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  if (!all.every((h) => HEXTET.test(h))) return null;
  return all.map((h) => parseInt(h, 16));
}

/** The source an address belongs to: the IPv4 address, or the /64 of an IPv6 one; null if it is no address. */
export function sourceOfAddress(raw: string): string | null {
  const address = raw.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (IPV4.test(address)) return address;
  const hextets = ipv6Hextets(address);
  if (!hextets) return null;
  const mappedV4 = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (mappedV4) return [hextets[6] >> 8, hextets[6] & 255, hextets[7] >> 8, hextets[7] & 255].join(".");
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(":")}::/64`;
}

/** A request's source, from `header`; requests without a usable address share one source. */
export function requestSource(req: Request, header = DEFAULT_CLIENT_IP_HEADER): string {
  const value = req.headers.get(header);
  return (value !== null && sourceOfAddress(value)) || "unknown";
}

/** What the database keeps of a source: not the address itself. */
export async function hashSource(source: string, pepper: string): Promise<string> {
  return (await hmacSha256Hex(pepper, `client-source:${source}`)).slice(0, 32);
}
