// Device tokens: `devtok_` + 32 random base62 characters + a 6-character base62 CRC-32
// of the random part. The checksum lets us refuse typos and garbage without touching
// the database, and the prefix lets secret scanners find leaked tokens.
import { ApiError } from "../errors.ts";
import { crc32, hmacSha256Hex, randomString, timingSafeEqual } from "../crypto.ts";

export const DEVICE_TOKEN_PREFIX = "devtok_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 32; // 32 * log2(62) ≈ 190 bits
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
const TOKEN_PATTERN = new RegExp(`^${DEVICE_TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

function base62Fixed(value: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function checksumOf(randomPart: string): string {
  return base62Fixed(crc32(randomPart), CHECKSUM_LENGTH);
}

export function generateDeviceToken(): string {
  const randomPart = randomString(BASE62, RANDOM_LENGTH);
  return DEVICE_TOKEN_PREFIX + randomPart + checksumOf(randomPart);
}

/** Whether the token is shaped right and its checksum matches (no database needed). */
export function isWellFormedDeviceToken(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const body = token.slice(DEVICE_TOKEN_PREFIX.length);
  const randomPart = body.slice(0, RANDOM_LENGTH);
  return timingSafeEqual(body.slice(RANDOM_LENGTH), checksumOf(randomPart));
}

/** The keyed hash stored in `devices.device_token_hash`. */
export function hashDeviceToken(token: string, pepper: string): Promise<string> {
  return hmacSha256Hex(pepper, `device-token:${token}`);
}

/** Reads `X-Device-Token` and returns its hash, or refuses with 401. */
export async function deviceTokenHashFrom(req: Request, pepper: string): Promise<string> {
  const token = req.headers.get("x-device-token")?.trim();
  if (!token) {
    throw new ApiError(401, "missing_token", "Send the device token in the X-Device-Token header.");
  }
  if (!isWellFormedDeviceToken(token)) {
    throw new ApiError(401, "malformed_token", "The device token is malformed or mistyped.");
  }
  return hashDeviceToken(token, pepper);
}
