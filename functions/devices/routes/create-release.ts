import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { ObjectTooLargeError } from "../../_shared/storage/driver.ts";
import {
  Channel, imageMismatch, imageObjectKey, ImageSize, imageStore, keyIdOf, Sha256, sha256Hex, signatureVerifies, signedMessage,
  Version,
} from "../ota.ts";
import { defineRoute } from "../route.ts";

export const CreateReleaseRequest = z.object({
  version: Version,
  channel: Channel.default("stable"),
  size: ImageSize,
  sha256: Sha256,
  signature: z.string().regex(/^[0-9a-f]{128}$/, "must be 128 lower-case hexadecimal digits (Ed25519)"),
  public_key: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hexadecimal digits (raw Ed25519)"),
  key_id: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lower-case hexadecimal digits"),
  min_version: Version.nullable().default(null),
  rollout_percent: z.number().int().min(0).max(100),
}).strict();

// Refused unless the signature verifies with the given public key and the stored object is
// exactly the declared bytes: what a camera is offered was checked once here, and again on it.
export const createRelease = defineRoute({
  method: "POST", path: "/devices/releases", auth: "user", body: CreateReleaseRequest, limits: ["changesPerHour"],
  summary: "a firmware release of an uploaded, signed image, with its rollout percentage",
  answers: "201 `{ release }`",
  handler: async ({ auth: user, body: b }, ctx) => {
    if (await keyIdOf(b.public_key) !== b.key_id) {
      throw new ApiError(400, "key_mismatch", "key_id is not the id of public_key.");
    }
    if (!await signatureVerifies(b.public_key, b.signature, signedMessage(b.version, b.size, b.sha256))) {
      throw new ApiError(400, "bad_signature", "The signature does not verify for this version, size and sha256.");
    }
    const objectKey = imageObjectKey(user.userId, b.sha256);
    let bytes: Uint8Array | null;
    try {
      bytes = await imageStore(ctx.storage).getObject(objectKey, b.size);
    } catch (err) {
      if (err instanceof ObjectTooLargeError) throw imageMismatch("it is larger than the declared size");
      throw err;
    }
    if (!bytes) throw new ApiError(409, "image_not_uploaded", "Upload the image first (POST /devices/release-upload-url).");
    if (bytes.length !== b.size) throw imageMismatch(`it has ${bytes.length} bytes, not ${b.size}`);
    if (await sha256Hex(new Uint8Array(bytes)) !== b.sha256) throw imageMismatch("its SHA-256 differs");
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ release: unknown }[]>`
        select device_api.create_release(
          p_user_id => ${user.userId}::uuid, p_version => ${b.version}, p_channel => ${b.channel},
          p_size => ${b.size}::bigint, p_sha256 => ${b.sha256}, p_signature => ${b.signature},
          p_public_key => ${b.public_key}, p_key_id => ${b.key_id}, p_min_version => ${b.min_version},
          p_rollout_percent => ${b.rollout_percent}::integer, p_object_key => ${objectKey},
          p_max_per_hour => ${ctx.config.changesPerHour}) as release`
    );
    return jsonResponse({ release: row.release }, 201);
  },
});
