import { z } from "zod";
import { jsonResponse } from "../../_shared/errors.ts";
import { imageObjectKey, ImageSize, Sha256 } from "../ota.ts";
import { defineRoute } from "../route.ts";

export const ReleaseUploadRequest = z.object({ size: ImageSize, sha256: Sha256 }).strict();

// The object is named by its SHA-256, so an image already stored is not sent again.
export const releaseUploadUrl = defineRoute({
  method: "POST", path: "/devices/release-upload-url", auth: "user", body: ReleaseUploadRequest, limits: [],
  summary: "where the owner's CLI PUTs a firmware image (none when those bytes are stored already)",
  answers: "200 `{ object_key, upload: { url, method, headers, expires_at } }`, `upload: null` when the bytes are stored already",
  handler: async ({ auth: user, body }, ctx) => {
    const objectKey = imageObjectKey(user.userId, body.sha256);
    const stored = await ctx.storage.inspectObject(objectKey);
    if (stored.exists && stored.size === body.size) return jsonResponse({ object_key: objectKey, upload: null });
    if (stored.exists) await ctx.storage.deleteObject(objectKey); // a broken earlier upload
    const target = await ctx.storage.createUploadTarget(objectKey, {
      contentType: "application/octet-stream", size: body.size, sha256: body.sha256,
    });
    return jsonResponse({
      object_key: objectKey,
      upload: { url: target.url, method: target.method, headers: target.headers, expires_at: target.expiresAt.toISOString() },
    });
  },
});
