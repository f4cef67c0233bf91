// The `devices` Edge Function: one router, one module per route.
import { createUserVerifier } from "../_shared/auth/user-jwt.ts";
import type { Config } from "../_shared/config.ts";
import { connectDatabase } from "../_shared/db.ts";
import { ApiError, errorResponse, toApiError } from "../_shared/errors.ts";
import { createStorageDriver } from "../_shared/storage/index.ts";
import type { DevicesContext, RouteHandler } from "./context.ts";
import { activate } from "./routes/activate.ts";
import { ingest } from "./routes/ingest.ts";
import { pair } from "./routes/pair.ts";
import { uploadUrl } from "./routes/upload-url.ts";

export const ROUTES: Record<string, RouteHandler> = {
  "pair": pair,
  "activate": activate,
  "upload-url": uploadUrl,
  "ingest": ingest,
};

// Every header supabase-js sends: its own four (supabase-js src/cors.ts), the W3C trace
// headers it adds when trace propagation is on (src/lib/fetch.ts), and functions-js'
// x-region; plus the devices' own. Browsers may read Retry-After on a 429.
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, traceparent, tracestate, baggage, x-region, x-device-token",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-expose-headers": "Retry-After",
};

/** `/devices/pair`, `/functions/v1/devices/pair` → `pair`. */
export function routeName(pathname: string): string | undefined {
  const match = /(?:^|\/)devices\/([a-z-]+)\/?$/.exec(pathname);
  return match?.[1];
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
        const route = name ? ROUTES[name] : undefined;
        if (!route) throw new ApiError(404, "not_found", "No such route. Routes: " + Object.keys(ROUTES).join(", "));
        if (req.method !== "POST") throw new ApiError(405, "method_not_allowed", "Use POST.");
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
      route: name ?? null,
      status: response.status,
      code: failure?.code,
      ms: Math.round(performance.now() - started),
    }));
    return response;
  };
}
