// From a request to a route: which declared route the path names, its path parameters,
// its caller's authentication and its body, all the same way for every route.
import { deviceTokenHashFrom } from "../_shared/auth/device-token.ts";
import { ApiError } from "../_shared/errors.ts";
import { readJsonBody } from "../_shared/request.ts";
import { readBatch } from "./batch.ts";
import { noteBoot, readBootClock } from "./boot-clock.ts";
import type { DevicesContext } from "./context.ts";
import { PATH_PARAMS } from "./params.ts";
import type { AuthKind, AuthOf, BatchBody, BodySpec, Route } from "./route.ts";

/** `/devices/:device/rename` → `[":device", "rename"]`: the segments after `devices`. */
export function routeSegments(path: string): string[] {
  return path.split("/").filter(Boolean).slice(1);
}

/**
 * The routes whose path matches, and their parameters. The function is reached under
 * any prefix (`/devices/…` locally, `/functions/v1/devices/…` hosted), so a path matches
 * when it ends with `devices` and then the route's segments. One trailing slash is allowed.
 */
export function matchRoutes(routes: readonly Route[], pathname: string): Array<{ route: Route; params: Record<string, string> }> {
  const segments = pathname.replace(/\/$/, "").split("/");
  const out: Array<{ route: Route; params: Record<string, string> }> = [];
  for (const route of routes) {
    const pattern = routeSegments(route.path);
    const start = segments.length - pattern.length;
    if (start < 1 || segments[start - 1] !== "devices") continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((p, i) => {
      const s = segments[start + i];
      if (p.startsWith(":")) {
        params[p.slice(1)] = s;
        return s.length > 0;
      }
      return s === p;
    });
    if (ok) out.push({ route, params });
  }
  return out;
}

/** The route for the request, or 404 not_found / 405 method_not_allowed. */
export function findRoute(routes: readonly Route[], req: Request): { route: Route; params: Record<string, string> } {
  const matches = matchRoutes(routes, new URL(req.url).pathname);
  if (matches.length === 0) {
    throw new ApiError(404, "not_found", `No such route. Routes: ${routes.map((r) => `${r.method} ${r.path}`).join(", ")}`);
  }
  const match = matches.find((m) => m.route.method === req.method);
  if (!match) throw new ApiError(405, "method_not_allowed", `Use ${[...new Set(matches.map((m) => m.route.method))].join(" or ")}.`);
  return match;
}

async function authenticate(kind: AuthKind, req: Request, ctx: DevicesContext): Promise<AuthOf<AuthKind>> {
  if (kind === "user") return await ctx.verifyUser(req);
  if (kind === "device") {
    const tokenHash = await deviceTokenHashFrom(req, ctx.config.tokenPepper);
    return { tokenHash, accepted: () => ctx.recentTokens.add(tokenHash) };
  }
  return null;
}

async function readBody(spec: BodySpec, req: Request, ctx: DevicesContext): Promise<unknown> {
  if (spec === "none") {
    await req.body?.cancel();
    return undefined;
  }
  if ("batchOf" in spec) {
    const batch = spec as BatchBody;
    return await readBatch(req, batch.batchOf, (item) => batch.check(item, ctx.config));
  }
  return await readJsonBody(req, spec);
}

/** Runs the route: authentication, then path parameters, then the body, then the handler. */
export async function runRoute(route: Route, params: Record<string, string>, req: Request, ctx: DevicesContext): Promise<Response> {
  const auth = await authenticate(route.auth, req, ctx);
  const bootClock = route.auth === "device" ? readBootClock(req.headers) : null;
  const parsedParams: Record<string, string> = {};
  for (const [name, raw] of Object.entries(params)) parsedParams[name] = PATH_PARAMS[name](raw);
  try {
    const body = await readBody(route.body, req, ctx);
    const response = await route.handler({ req, auth, params: parsedParams, body } as never, ctx);
    if (bootClock && response.status < 300) {
      await noteBoot(ctx.sql, ctx.bootsNoted, (auth as AuthOf<"device">).tokenHash, bootClock);
    }
    return response;
  } catch (err) {
    // A refused token (or one over its limits) goes back to the path that checks it first.
    if (route.auth === "device" && err instanceof ApiError && (err.status === 401 || err.status === 429)) {
      ctx.recentTokens.delete((auth as AuthOf<"device">).tokenHash);
    }
    throw err;
  }
}
