// What storage holds under a key, read from s3rver itself (behind the SigV4 gate), so a test
// sees the bytes that were stored rather than what a signed request would be let through to.
import type { StackInfo } from "../../scripts/stack/stack.ts";

/** The object's bytes, or null if there is none. */
export async function storedObject(storage: StackInfo["storage"], key: string): Promise<Uint8Array | null> {
  const res = await fetch(`${storage.backend_endpoint}/${storage.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`reading ${key} from storage: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Replaces an object's bytes in s3rver itself, past the SigV4 gate: a stand-in for tampered storage. */
export async function overwriteStoredObject(storage: StackInfo["storage"], key: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const res = await fetch(`${storage.backend_endpoint}/${storage.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
    { method: "PUT", body: bytes });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`overwriting ${key} in storage: HTTP ${res.status}`);
}
