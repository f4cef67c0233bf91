// Firmware releases: the fixed numbers, the request fields they share, and the checks made
// before a release exists (the signature verifies, the stored image is the declared bytes).
import { z } from "zod";
import { toHex } from "../_shared/crypto.ts";
import { ApiError } from "../_shared/errors.ts";
import type { ObjectStore, StorageDriver } from "../_shared/storage/driver.ts";

export const OTA = {
  /** an app slot of the XIAO ESP32S3's default partition table */
  maxImageBytes: 0x330000,
  /** how long the download URL in a heartbeat offer works (a resumed download asks again) */
  downloadUrlTtlSeconds: 900,
  /** a release halts itself when, over at least this many attempts, ... */
  autoHaltMinAttempts: 20,
  /** ... more than this percentage rolled back */
  autoHaltMaxRollbackPercent: 5,
} as const;

export const Version = z.string().regex(/^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$/, "must be major.minor.patch");
export const Channel = z.string().regex(/^[a-z0-9-]{1,32}$/, "lower-case letters, digits and - only");
export const ImageSize = z.number().int().min(1).max(OTA.maxImageBytes);
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hexadecimal digits");
export const OtaState = z.enum(["idle", "downloading", "downloaded", "pending_verify", "confirmed", "rolled_back", "refused"]);
export const OtaError = z.string().regex(/^[a-z0-9_]{1,48}$/, "a reason code: lower-case letters, digits and _");
export const ReleaseId = z.string().uuid();

/** What the release key signs: the firmware checks the same bytes (ota_updater.cpp). */
// Return types inferred: Deno 2.1.4 (the Edge Runtime) knows no generic Uint8Array.
export function signedMessage(version: string, size: number, sha256: string) {
  return new TextEncoder().encode(`lifelog-firmware-v1\n${version}\n${size}\n${sha256}\n`);
}

export function fromHex(hex: string) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export async function sha256Hex(bytes: BufferSource): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

/** The first 16 hex digits of the SHA-256 of the raw 32-byte public key. */
export async function keyIdOf(publicKeyHex: string): Promise<string> {
  return (await sha256Hex(fromHex(publicKeyHex))).slice(0, 16);
}

export async function signatureVerifies(publicKeyHex: string, signatureHex: string, message: BufferSource) {
  const key = await crypto.subtle.importKey("raw", fromHex(publicKeyHex), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(signatureHex), message);
}

/** Where a user's image lives: one object per content, so the same bytes upload once. */
export function imageObjectKey(userId: string, sha256: string): string {
  return `firmware/${userId}/${sha256}.bin`;
}

export function imageMismatch(what: string): ApiError {
  return new ApiError(422, "image_mismatch", `The uploaded image does not match the release: ${what}.`);
}

/** The context's storage read and signed for downloads: every driver of createStorageDriver
 * is an ObjectStore too; a context built with an upload-only stand-in is told so plainly. */
export function imageStore(storage: StorageDriver): ObjectStore {
  const store = storage as StorageDriver & Partial<ObjectStore>;
  if (!store.getObject || !store.signDownloadUrls) {
    throw new ApiError(503, "storage_unavailable", "This storage cannot serve firmware images.");
  }
  return store as ObjectStore;
}
