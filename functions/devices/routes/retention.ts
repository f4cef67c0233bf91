import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

// the same bounds as public.retention_policies' checks
export const RetentionChange = z.object({
  originals_days: z.number().int().min(1).max(3650).optional(),
  hidden_grace_days: z.number().int().min(0).max(3650).optional(),
  quota_bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
}).strict().refine((c) => Object.keys(c).length > 0, { message: "give at least one of originals_days, hidden_grace_days, quota_bytes" });

export const getRetention = defineRoute({
  method: "GET", path: "/devices/retention", auth: "user", body: "none", limits: [],
  summary: "the caller's retention policy (defaults: originals 30 days, hidden photos 7 days, no quota)",
  answers: "200 `{ policy: { originals_days, hidden_grace_days, quota_bytes } }`",
  handler: async ({ auth: user }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ policy: unknown }[]>`select device_api.retention_policy(p_user_id => ${user.userId}::uuid) as policy`
    );
    return jsonResponse({ policy: row.policy });
  },
});

export const setRetention = defineRoute({
  method: "POST", path: "/devices/retention", auth: "user", body: RetentionChange, limits: ["retentionChangesPerHour"],
  summary: "changes any of the caller's retention settings (`quota_bytes: null` removes the quota)",
  answers: "200 `{ policy }`",
  handler: async ({ auth: user, body }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ policy: unknown }[]>`
        select device_api.set_retention_policy(p_user_id => ${user.userId}::uuid, p_patch => ${ctx.sql.json(body)},
                                               p_max_per_hour => ${ctx.config.retentionChangesPerHour}) as policy`
    );
    return jsonResponse({ policy: row.policy });
  },
});
