// POST /devices/release-upload-url (user JWT): where the owner's CLI PUTs a firmware image.
// The object is named by its SHA-256, so an image already stored is not sent again.
import { z } from "zod";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { imageObjectKey, ImageSize, Sha256 } from "../ota.ts";

export const ReleaseUploadRequest = z.object({ size: ImageSize, sha256: Sha256 }).strict();

export const releaseUploadUrl: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const body = await readJsonBody(req, ReleaseUploadRequest);
  const objectKey = imageObjectKey(user.userId, body.sha256);
  const stored = await ctx.storage.inspectObject(objectKey);
  if (stored.exists && stored.size === body.size) {
    return jsonResponse({ object_key: objectKey, upload: null });
  }
  if (stored.exists) await ctx.storage.deleteObject(objectKey); // a broken earlier upload
  const target = await ctx.storage.createUploadTarget(objectKey, {
    contentType: "application/octet-stream", size: body.size, sha256: body.sha256,
  });
  return jsonResponse({
    object_key: objectKey,
    upload: { url: target.url, method: target.method, headers: target.headers, expires_at: target.expiresAt.toISOString() },
  });
};
