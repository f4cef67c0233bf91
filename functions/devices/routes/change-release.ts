import { z } from "zod";
import type { SignedInUser } from "../../_shared/auth/user-jwt.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import type { DevicesContext } from "../context.ts";
import { ReleaseId } from "../ota.ts";
import { defineRoute } from "../route.ts";

const ReleaseRef = z.object({ release_id: ReleaseId }).strict();
const RolloutChange = z.object({ release_id: ReleaseId, rollout_percent: z.number().int().min(0).max(100) }).strict();

// Another user's release is a 404 that reveals nothing.
async function changeRelease(ctx: DevicesContext, user: SignedInUser, releaseId: string, halted: boolean | null, rollout: number | null) {
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ release: unknown }[]>`
      select device_api.change_release(
        p_user_id => ${user.userId}::uuid, p_release_id => ${releaseId}::uuid, p_halted => ${halted},
        p_rollout_percent => ${rollout}::integer, p_max_per_hour => ${ctx.config.changesPerHour}) as release`
  );
  return jsonResponse({ release: row.release });
}

export const haltRelease = defineRoute({
  method: "POST", path: "/devices/release-halt", auth: "user", body: ReleaseRef, limits: ["changesPerHour"],
  summary: "stop offering a firmware release", answers: "200 `{ release }`",
  handler: ({ auth, body }, ctx) => changeRelease(ctx, auth, body.release_id, true, null),
});

export const resumeRelease = defineRoute({
  method: "POST", path: "/devices/release-resume", auth: "user", body: ReleaseRef, limits: ["changesPerHour"],
  summary: "offer a halted firmware release again (auto-halt then counts afresh)", answers: "200 `{ release }`",
  handler: ({ auth, body }, ctx) => changeRelease(ctx, auth, body.release_id, false, null),
});

export const setReleaseRollout = defineRoute({
  method: "POST", path: "/devices/release-rollout", auth: "user", body: RolloutChange, limits: ["changesPerHour"],
  summary: "change how many devices (in percent, by a stable hash of their id) a release reaches", answers: "200 `{ release }`",
  handler: ({ auth, body }, ctx) => changeRelease(ctx, auth, body.release_id, null, body.rollout_percent),
});
