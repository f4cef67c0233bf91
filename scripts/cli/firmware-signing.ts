// The release key (Ed25519) and what it signs. The private key stays in a 0600 file on the
// owner's machine; the public key and its id travel with every release. The camera checks
// the same message with libsodium (firmware-config/core/src/ota_updater.cpp).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";

export interface ReleaseKeyPair {
  /** PKCS#8 PEM */
  privateKeyPem: string;
  /** raw 32 bytes, hex */
  publicKey: string;
  keyId: string;
}

export function signedMessage(version: string, size: number, sha256: string): Buffer {
  return Buffer.from(`lifelog-firmware-v1\n${version}\n${size}\n${sha256}\n`);
}

/** The first 16 hex digits of the SHA-256 of the raw public key. */
export function keyIdOf(publicKeyHex: string): string {
  return createHash("sha256").update(Buffer.from(publicKeyHex, "hex")).digest("hex").slice(0, 16);
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x) throw new Error("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url").toString("hex");
}

export function generateReleaseKey(): ReleaseKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = rawPublicKey(publicKey);
  return { privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicKey: raw, keyId: keyIdOf(raw) };
}

/** The key pair of a PEM private key (throws on anything but Ed25519). */
export function releaseKeyFromPem(pem: string): ReleaseKeyPair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("the release key is not an Ed25519 key");
  const raw = rawPublicKey(createPublicKey(privateKey));
  return { privateKeyPem: pem, publicKey: raw, keyId: keyIdOf(raw) };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface SignedImage {
  version: string;
  size: number;
  sha256: string;
  /** 64 bytes, hex */
  signature: string;
  public_key: string;
  key_id: string;
}

export function signImage(key: ReleaseKeyPair, version: string, image: Uint8Array): SignedImage {
  const sha256 = sha256Hex(image);
  const signature = sign(null, signedMessage(version, image.length, sha256), createPrivateKey(key.privateKeyPem)).toString("hex");
  return { version, size: image.length, sha256, signature, public_key: key.publicKey, key_id: key.keyId };
}

export function signatureVerifies(image: SignedImage): boolean {
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(image.public_key, "hex").toString("base64url") }, format: "jwk" });
  return verify(null, signedMessage(image.version, image.size, image.sha256), publicKey, Buffer.from(image.signature, "hex"));
}
