// Which release public key a rendered sketch trusts: an explicit flag, the config's
// release_public_key, or the public half of the key file `keygen` wrote. Only the public key
// leaves this module; the private key is read (when it must be) to derive it and dropped.
import { stat } from "node:fs/promises";
import { RELEASE_PUBLIC_KEY_HEX, RELEASE_PUBLIC_KEY_RULE } from "../firmware/sketch-config.ts";
import { defaultKeyPath, readReleaseKey } from "./commands/releases.ts";
import { usageError } from "./errors.ts";
import { keyIdOf } from "./firmware-signing.ts";

export interface ReleasePublicKey {
  publicKey: string;
  keyId: string;
  /** where it came from, for the user */
  source: string;
}

export async function releasePublicKey(
  values: Record<string, unknown>,
  config: { release_public_key?: string },
  env: NodeJS.ProcessEnv,
): Promise<ReleasePublicKey | null> {
  const flag = values["release-public-key"] as string | undefined;
  if (flag !== undefined) {
    if (!RELEASE_PUBLIC_KEY_HEX.test(flag)) {
      throw usageError(`--release-public-key ${RELEASE_PUBLIC_KEY_RULE}`);
    }
    return { publicKey: flag.toLowerCase(), keyId: keyIdOf(flag), source: "--release-public-key" };
  }
  // The config's own key is checked by the sketch schema when rendering.
  if (config.release_public_key !== undefined) {
    const k = config.release_public_key;
    return { publicKey: k, keyId: RELEASE_PUBLIC_KEY_HEX.test(k) ? keyIdOf(k) : "?", source: "release_public_key in the config" };
  }
  const explicit = values.key as string | undefined;
  const path = explicit ?? defaultKeyPath(env);
  if (!explicit && !(await stat(path).then(() => true, () => false))) return null;
  const { publicKey, keyId } = await readReleaseKey(path);
  return { publicKey, keyId, source: path };
}
