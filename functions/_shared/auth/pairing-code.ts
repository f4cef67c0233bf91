// Pairing codes in the style of RFC 8628 user codes: 8 letters from a 20-consonant
// alphabet (no vowels, so no words; no look-alikes), shown as XXXX-XXXX, read back
// case-insensitively with or without the dash. 20^8 ≈ 2^34.6 codes.
import { hmacSha256Hex, randomString } from "../crypto.ts";

export const PAIRING_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const PAIRING_CODE_LENGTH = 8;
// The first letters select the pairing (they are not secret): wrong guesses count against
// the pairings they could have been meant for, once per source (docs/security.md), so no
// one client can lock out anyone else's. The other 6 letters are the secret: 20^6 ≈ 2^25.9.
export const PAIRING_LOOKUP_PREFIX_LENGTH = 2;

export function generatePairingCode(): string {
  const raw = randomString(PAIRING_ALPHABET, PAIRING_CODE_LENGTH);
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

/** The canonical form (8 upper-case letters) or null when it cannot be a code of ours. */
export function normalizePairingCode(input: string): string | null {
  const compact = input.replace(/[\s-]/g, "").toUpperCase();
  if (compact.length !== PAIRING_CODE_LENGTH) return null;
  for (const ch of compact) if (!PAIRING_ALPHABET.includes(ch)) return null;
  return compact;
}

/** The letters that select the pairing, of a normalized code. */
export function pairingLookupPrefix(normalized: string): string {
  return normalized.slice(0, PAIRING_LOOKUP_PREFIX_LENGTH);
}

export function hashPairingCode(normalized: string, pepper: string): Promise<string> {
  return hmacSha256Hex(pepper, `pairing-code:${normalized}`);
}

/** The key a device sends with its code so that it may retry an activation whose answer was lost. */
export function hashActivationKey(key: string, pepper: string): Promise<string> {
  return hmacSha256Hex(pepper, `activation-key:${key}`);
}
