// What `pair --write-config` remembers next to a config (<config>.pairing.json): which device the
// code belongs to and when it expires, so render and doctor can warn without calling /activate
// (which would use the code up, or count as a failed guess).
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import { normalizePairingCode } from "../../functions/_shared/auth/pairing-code.ts";

const PairingRecordSchema = z.object({
  device_id: z.string(),
  expires_at: z.string(),
  api_base: z.string(),
  /** SHA-256 of the normalized code: tells whether the config still holds this code. */
  pairing_code_sha256: z.string(),
});
export type PairingRecord = z.infer<typeof PairingRecordSchema>;

export type PairingStatus =
  | { state: "none" }
  | { state: "unknown" }
  | { state: "valid" | "expired"; record: PairingRecord; secondsLeft: number };

const pairingRecordPath = (configPath: string) => `${configPath}.pairing.json`;

// A string that is no pairing code can match no record, whatever it hashes to.
const normalize = (code: string) => normalizePairingCode(code) ?? code;
const codeHash = (code: string) => createHash("sha256").update(normalize(code)).digest("hex");

export async function savePairingRecord(
  configPath: string,
  paired: { device_id: string; expires_at: string; pairing_code: string },
  apiBase: string,
): Promise<void> {
  const record: PairingRecord = {
    device_id: paired.device_id,
    expires_at: paired.expires_at,
    api_base: apiBase,
    pairing_code_sha256: codeHash(paired.pairing_code),
  };
  await writeFile(pairingRecordPath(configPath), JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
}

export async function pairingStatus(configPath: string, pairingCode: string | undefined, now = new Date()): Promise<PairingStatus> {
  if (!pairingCode) return { state: "none" };
  let record: PairingRecord;
  try {
    record = PairingRecordSchema.parse(JSON.parse(await readFile(pairingRecordPath(configPath), "utf8")));
  } catch {
    return { state: "unknown" };
  }
  if (record.pairing_code_sha256 !== codeHash(pairingCode)) return { state: "unknown" };
  const secondsLeft = Math.floor((new Date(record.expires_at).getTime() - now.getTime()) / 1000);
  return { state: secondsLeft > 0 ? "valid" : "expired", record, secondsLeft };
}

type RecordedPairing = Extract<PairingStatus, { record: PairingRecord }>;

/** Whole minutes until a valid code expires, rounded up. */
export const minutesLeft = (status: RecordedPairing) => Math.ceil(status.secondsLeft / 60);

/**
 * A recorded code in words: "valid until <time> (N minutes left)", or that it has expired, when,
 * and what to do (the message doctor, `pair --status` and render fail with).
 */
export function describePairing(status: RecordedPairing): string {
  return status.state === "valid"
    ? `valid until ${status.record.expires_at} (${minutesLeft(status)} minutes left)`
    : `the pairing code has expired; run \`lifelog-devices pair\` again (it expired at ${status.record.expires_at})`;
}
