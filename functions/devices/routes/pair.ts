// POST /devices/pair (user JWT): a new device and its short-lived pairing code.
import { z } from "zod";
import {
  generatePairingCode, hashPairingCode, normalizePairingCode, pairingLookupPrefix,
} from "../../_shared/auth/pairing-code.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { DeviceName } from "../lifecycle.ts";

export const PairRequest = z.object({
  name: DeviceName.optional(),
});
export type PairRequest = z.infer<typeof PairRequest>;

export const pair: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const body = await readJsonBody(req, PairRequest);
  const code = generatePairingCode();
  const normalized = normalizePairingCode(code)!;
  const codeHash = await hashPairingCode(normalized, ctx.config.tokenPepper);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ device_id: string; expires_at: Date }[]>`
      select * from device_api.pair(
        p_user_id => ${user.userId}::uuid, p_name => ${body.name ?? null}, p_code_hash => ${codeHash},
        p_lookup_prefix => ${pairingLookupPrefix(normalized)}, p_ttl_seconds => ${ctx.config.pairingTtlSeconds},
        p_max_per_hour => ${ctx.config.pairingsPerHour})`
  );
  return jsonResponse({
    device_id: row.device_id,
    pairing_code: code,
    expires_at: new Date(row.expires_at).toISOString(),
  }, 201);
};
