// GET /devices/retention and POST /devices/retention (user JWT): the caller's retention policy.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { PHOTO_LIMITS } from "../owner-photos.ts";

// the same bounds as public.retention_policies' checks
export const RetentionChange = z.object({
  originals_days: z.number().int().min(1).max(3650).optional(),
  hidden_grace_days: z.number().int().min(0).max(3650).optional(),
  quota_bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
}).strict().refine((c) => Object.keys(c).length > 0, { message: "give at least one of originals_days, hidden_grace_days, quota_bytes" });

export const getRetention: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ policy: unknown }[]>`select device_api.retention_policy(p_user_id => ${user.userId}::uuid) as policy`
  );
  return jsonResponse({ policy: row.policy });
};

export const setRetention: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const change = await readJsonBody(req, RetentionChange);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ policy: unknown }[]>`
      select device_api.set_retention_policy(p_user_id => ${user.userId}::uuid, p_patch => ${ctx.sql.json(change)},
                                             p_max_per_hour => ${PHOTO_LIMITS.retentionChangesPerHour}) as policy`
  );
  return jsonResponse({ policy: row.policy });
};
