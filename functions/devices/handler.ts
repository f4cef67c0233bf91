// The `devices` Edge Function: one router, one module per route.
import { createRecentSet } from "../_shared/auth/recent-tokens.ts";
import { createUserVerifier } from "../_shared/auth/user-jwt.ts";
import type { Config } from "../_shared/config.ts";
import { connectDatabase } from "../_shared/db.ts";
import { ApiError, errorResponse, toApiError } from "../_shared/errors.ts";
import { createStorageDriver } from "../_shared/storage/index.ts";
import type { DevicesContext, RouteHandler } from "./context.ts";
import { activate } from "./routes/activate.ts";
import { deviceSettings } from "./routes/device-settings.ts";
import { heartbeat } from "./routes/heartbeat.ts";
import { ingest } from "./routes/ingest.ts";
import { ingestBatch } from "./routes/ingest-batch.ts";
import { listDevices } from "./routes/list-devices.ts";
import { listPhotos } from "./routes/list-photos.ts";
import { pair } from "./routes/pair.ts";
import { pinPhoto } from "./routes/pin-photo.ts";
import { renameDevice } from "./routes/rename-device.ts";
import { getRetention, setRetention } from "./routes/retention.ts";
import { revokeDevice } from "./routes/revoke-device.ts";
import { rotate } from "./routes/rotate.ts";
import { uploadUrl } from "./routes/upload-url.ts";
import { uploadUrls } from "./routes/upload-urls.ts";

/** POST routes by name; `<id>/<action>` names the per-device user routes. */
export const ROUTES: Record<string, RouteHandler> = {
  "pair": pair,
  "activate": activate,
  "upload-url": uploadUrl,
  "ingest": ingest,
  "upload-urls": uploadUrls,
  "ingest-batch": ingestBatch,
  "rotate": rotate,
  "heartbeat": heartbeat,
  "<id>/rename": renameDevice,
  "<id>/revoke": revokeDevice,
  "<id>/settings": deviceSettings,
  "photos/<id>/pin": pinPhoto,
  "retention": setRetention,
};

/** GET routes: the bare `/devices` lists the caller's devices. */
export const GET_ROUTES: Record<string, RouteHandler> = {
  "": listDevices,
  "photos": listPhotos,
  "retention": getRetention,
};

// Every header supabase-js sends: its own four (supabase-js src/cors.ts), the W3C trace
// headers it adds when trace propagation is on (src/lib/fetch.ts), and functions-js'
// x-region; plus the devices' own. Browsers may read Retry-After on a 429.
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, traceparent, tracestate, baggage, x-region, x-device-token",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-expose-headers": "Retry-After",
};

/**
 * `/devices/pair`, `/functions/v1/devices/pair` → `pair`; `/devices` → `""`;
 * `/devices/<anything>/rename` → `<id>/rename` (the route checks the id).
 */
export function routeName(pathname: string): string | undefined {
  if (/(?:^|\/)devices\/?$/.test(pathname)) return "";
  if (/(?:^|\/)devices\/photos\/[^/]+\/pin\/?$/.test(pathname)) return "photos/<id>/pin";
  const match = /(?:^|\/)devices\/([a-z-]+)\/?$/.exec(pathname);
  if (match) return match[1];
  const perDevice = /(?:^|\/)devices\/[^/]+\/([a-z-]+)\/?$/.exec(pathname);
  return perDevice ? `<id>/${perDevice[1]}` : undefined;
}

export function createContext(config: Config): DevicesContext {
  return {
    config,
    sql: connectDatabase(config.dbUrl, config.dbPoolSize),
    storage: createStorageDriver(config),
    verifyUser: createUserVerifier({
      supabaseUrl: config.supabaseUrl,
      jwks: config.jwks,
      legacyJwtSecret: config.legacyJwtSecret,
    }),
    recentTokens: createRecentSet(),
  };
}

export function createDevicesHandler(ctx: DevicesContext): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    const name = routeName(new URL(req.url).pathname);
    let response: Response;
    let failure: ApiError | undefined;
    try {
      if (req.method === "OPTIONS") {
        response = new Response(null, { status: 204 });
      } else {
        const post = name !== undefined ? ROUTES[name] : undefined;
        const get = name !== undefined ? GET_ROUTES[name] : undefined;
        if (!post && !get) {
          throw new ApiError(404, "not_found", "No such route. Routes: GET /devices, POST " + Object.keys(ROUTES).join(", "));
        }
        const route = req.method === "POST" ? post : req.method === "GET" ? get : undefined;
        if (!route) throw new ApiError(405, "method_not_allowed", `Use ${post ? "POST" : "GET"}.`);
        response = await route(req, ctx);
      }
    } catch (err) {
      failure = toApiError(err);
      if (failure.status >= 500 && !(err instanceof ApiError)) console.error("devices: unhandled", err);
      response = errorResponse(failure);
    }
    for (const [k, v] of Object.entries(CORS_HEADERS)) response.headers.set(k, v);
    // One line per request; never bodies or headers (they carry tokens and codes).
    console.log(JSON.stringify({
      route: name === "" ? "list" : name ?? null,
      status: response.status,
      code: failure?.code,
      ms: Math.round(performance.now() - started),
    }));
    return response;
  };
}
