import { z } from "zod";
import { generateDeviceToken, hashDeviceToken } from "../../_shared/auth/device-token.ts";
import {
  hashActivationKey, hashPairingCode, normalizePairingCode, pairingLookupPrefix,
} from "../../_shared/auth/pairing-code.ts";
import { hashSource, requestSource } from "../../_shared/auth/client-source.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

export const ActivateRequest = z.object({
  pairing_code: z.string().max(32),
  // Random, made by the device before its first attempt and kept until it has a token:
  // lets it retry an activation whose answer was lost.
  activation_key: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, "must be 16 to 128 letters, digits, '-' or '_'")
    .optional(),
});
export type ActivateRequest = z.infer<typeof ActivateRequest>;

/** The window of a source's failure limit: a pairing code's default life. */
export const ACTIVATION_SOURCE_WINDOW_SECONDS = 600;

export const activate = defineRoute({
  method: "POST", path: "/devices/activate", auth: "pairing-code", body: ActivateRequest,
  limits: ["activationFailures"],
  summary: "the device token for a pairing code, shown this once only",
  answers: "201 `{ device_id, device_token }`",
  handler: async ({ req, body }, ctx) => {
    const normalized = normalizePairingCode(body.pairing_code);
    // A string that cannot be a code still counts as a failed attempt.
    const codeHash = await hashPairingCode(normalized ?? `invalid:${body.pairing_code}`, ctx.config.tokenPepper);
    const token = generateDeviceToken();
    const tokenHash = await hashDeviceToken(token, ctx.config.tokenPepper);
    const keyHash = body.activation_key === undefined
      ? null
      : await hashActivationKey(body.activation_key, ctx.config.tokenPepper);

    // Failures are limited per source; a wrong guess counts once per source against the
    // pairings whose lookup prefix it shares (each takes a limited number of sources in its
    // life); all failures together are capped to spare the database.
    const c = ctx.config;
    const source = await hashSource(requestSource(req, c.clientIpHeader), c.tokenPepper);
    const [{ result }] = await ctx.sql<{ result: ActivationResult }[]>`
      select device_api.activate(
        p_code_hash => ${codeHash}, p_lookup_prefix => ${normalized ? pairingLookupPrefix(normalized) : null},
        p_token_hash => ${tokenHash}, p_source => ${source}, p_max_failures => ${c.activationFailuresPerCode},
        p_source_max => ${c.activationFailuresPerSource}, p_source_window_seconds => ${ACTIVATION_SOURCE_WINDOW_SECONDS},
        p_global_max => ${c.activationFailuresPerMinute}, p_global_window_seconds => 60, p_activation_key_hash => ${keyHash}) as result`;
    if ("error" in result) {
      const e = result.error;
      throw new ApiError(e.status, e.code, e.message, { retryAfterSeconds: e.retry_after });
    }
    return jsonResponse({ device_id: result.device_id, device_token: token }, 201);
  },
});

type ActivationResult =
  | { device_id: string }
  | { error: { status: number; code: string; message: string; retry_after?: number } };
