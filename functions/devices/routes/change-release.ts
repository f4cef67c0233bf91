// POST /devices/release-halt, /devices/release-resume, /devices/release-rollout (user JWT):
// the owner stops a release, lets it go on (auto-halt then counts afresh), or changes its
// rollout percentage. Another user's release is a 404 that reveals nothing.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { OTA, ReleaseId } from "../ota.ts";

const ReleaseRef = z.object({ release_id: ReleaseId }).strict();
const RolloutChange = z.object({ release_id: ReleaseId, rollout_percent: z.number().int().min(0).max(100) }).strict();

function changeRelease(schema: z.ZodType<{ release_id: string; rollout_percent?: number }>, halted: boolean | null): RouteHandler {
  return async (req, ctx) => {
    const user = await ctx.verifyUser(req);
    const b = await readJsonBody(req, schema);
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ release: unknown }[]>`
        select device_api.change_release(
          p_user_id => ${user.userId}::uuid, p_release_id => ${b.release_id}::uuid, p_halted => ${halted},
          p_rollout_percent => ${b.rollout_percent ?? null}::integer, p_max_per_hour => ${OTA.changesPerHour}) as release`
    );
    return jsonResponse({ release: row.release });
  };
}

export const haltRelease = changeRelease(ReleaseRef, true);
export const resumeRelease = changeRelease(ReleaseRef, false);
export const setReleaseRollout = changeRelease(RolloutChange, null);
