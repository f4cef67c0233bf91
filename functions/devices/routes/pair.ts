import { z } from "zod";
import {
  generatePairingCode, hashPairingCode, normalizePairingCode, pairingLookupPrefix,
} from "../../_shared/auth/pairing-code.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { DeviceName } from "../device-name.ts";
import { defineRoute } from "../route.ts";

export const PairRequest = z.object({
  name: DeviceName.optional(),
});
export type PairRequest = z.infer<typeof PairRequest>;

export const pair = defineRoute({
  method: "POST", path: "/devices/pair", auth: "user", body: PairRequest, limits: ["pairingsPerHour"],
  summary: "a new device and its short-lived pairing code",
  answers: "201 `{ device_id, pairing_code, expires_at }`",
  handler: async ({ auth: user, body }, ctx) => {
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
  },
});
