// What a route declares: method, path, who may call it, what body it takes, which limits
// apply, and its handler. The dispatcher (handler.ts) does the rest the same way for all:
// authentication, path parameters, reading and validating the body, the error shape.
import type { z } from "zod";
import type { SignedInUser } from "../_shared/auth/user-jwt.ts";
import type { Config, LimitName } from "../_shared/config.ts";
import type { DevicesContext } from "./context.ts";
import type { Parsed } from "./batch.ts";

/**
 * - `user`: a Supabase Auth access token (`Authorization: Bearer …`)
 * - `device`: a device token (`X-Device-Token`)
 * - `pairing-code`: nobody signed in; the body carries a pairing code
 */
export type AuthKind = "user" | "device" | "pairing-code";

export type AuthOf<K extends AuthKind> = K extends "user" ? SignedInUser
  : K extends "device" ? DeviceAuth
  : null;

export interface DeviceAuth {
  /** the keyed hash of the presented token; the database decides whether it is valid */
  tokenHash: string;
  /**
   * Call once the database has accepted the token in this request: it then counts as
   * recent in this isolate (see recent-tokens.ts). Refusals with 401/429 make it not recent.
   */
  accepted(): void;
}

/** `{ items: [...] }`, each item validated on its own with `item` and then `check`. */
export interface BatchBody<S extends z.ZodType = z.ZodType, T = unknown> {
  batchOf: S;
  check: (item: z.output<S>, config: Config) => T;
}

/** A JSON body schema, a batch of them, or `"none"` (any body is discarded unread). */
export type BodySpec = z.ZodType | BatchBody | "none";

export type BodyOf<B> = B extends BatchBody<z.ZodType, infer T> ? Parsed<T>[]
  : B extends z.ZodType ? z.output<B>
  : undefined;

export interface RouteInput<K extends AuthKind, B extends BodySpec> {
  req: Request;
  auth: AuthOf<K>;
  /** the `:name` segments of the path, already checked (see params.ts) */
  params: Record<string, string>;
  body: BodyOf<B>;
}

export interface Route<K extends AuthKind = AuthKind, B extends BodySpec = BodySpec> {
  method: "GET" | "POST";
  /** e.g. `/devices/pair`, `/devices/:device/rename` (the function is reached at `/functions/v1/devices/…`) */
  path: string;
  auth: K;
  body: B;
  /** the rate limits that apply (config.ts LIMIT_ENV: the variables that set them) */
  limits: readonly LimitName[];
  /** one line for the route table */
  summary: string;
  /** what a success answers, for the route table (refusals: the error table in docs/api.md) */
  answers: string;
  handler: (input: RouteInput<K, B>, ctx: DevicesContext) => Promise<Response>;
}

/** Declares a route with its handler typed from its auth and body. */
export function defineRoute<K extends AuthKind, B extends BodySpec>(route: Route<K, B>): Route {
  return route as unknown as Route;
}

export function batchOf<S extends z.ZodType, T = z.output<S>>(
  schema: S,
  check: (item: z.output<S>, config: Config) => T = (item) => item as T,
): BatchBody<S, T> {
  return { batchOf: schema, check };
}
