// The `devices` Edge Function: one router, one module per route.
import { createRecentSet } from "../_shared/auth/recent-tokens.ts";
import { createUserVerifier } from "../_shared/auth/user-jwt.ts";
import type { Config } from "../_shared/config.ts";
import { connectDatabase } from "../_shared/db.ts";
import { ApiError, errorResponse, toApiError } from "../_shared/errors.ts";
import { createStorageDriver } from "../_shared/storage/index.ts";
import { createBootsNoted } from "./boot-clock.ts";
import type { DevicesContext } from "./context.ts";
import { findRoute, routeSegments, runRoute } from "./dispatch.ts";
import { ROUTES } from "./registry.ts";
import type { Route } from "./route.ts";
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
    bootsNoted: createBootsNoted(),
  };
}

export function createDevicesHandler(ctx: DevicesContext, routes: readonly Route[] = ROUTES): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    let route: Route | undefined;
    let response: Response;
    let failure: ApiError | undefined;
    try {
      if (req.method === "OPTIONS") {
        response = new Response(null, { status: 204 });
      } else {
        const found = findRoute(routes, req);
        route = found.route;
        response = await runRoute(found.route, found.params, req, ctx);
      }
    } catch (err) {
      failure = toApiError(err);
      if (failure.status >= 500 && !(err instanceof ApiError)) console.error("devices: unhandled", err);
      response = errorResponse(failure);
    }
    for (const [k, v] of Object.entries(CORS_HEADERS)) response.headers.set(k, v);
    // One line per request; never bodies or headers (they carry tokens and codes).
    console.log(JSON.stringify({
      route: route ? routeLabel(route) : null,
      status: response.status,
      code: failure?.code,
      ms: Math.round(performance.now() - started),
    }));
    return response;
  };
}

/** The name a route has in the request log: `pair`, `list`, `<id>/rename`. */
export function routeLabel(route: Route): string {
  const segments = routeSegments(route.path);
  if (segments.length === 0) return "list";
  return segments.map((s) => s.startsWith(":") ? "<id>" : s).join("/");
}
