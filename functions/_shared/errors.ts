/** The one error type of the API. Every refusal becomes `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    // body: more machine-readable fields of the error object (e.g. item_id)
    readonly extra: { retryAfterSeconds?: number; details?: unknown; body?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; [field: string]: unknown };
}

export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** The body of an error response (also one refused item of a batch). */
export function errorBody(err: ApiError): ErrorBody {
  const body: ErrorBody = { error: { ...err.extra.body, code: err.code, message: err.message } };
  if (err.extra.details !== undefined) body.error.details = err.extra.details;
  return body;
}

export function errorResponse(err: ApiError, headers: HeadersInit = {}): Response {
  const body = errorBody(err);
  const h = new Headers(headers);
  if (err.extra.retryAfterSeconds !== undefined) {
    h.set("retry-after", String(err.extra.retryAfterSeconds));
  }
  return jsonResponse(body, err.status, h);
}

/** Anything that is not an ApiError is our fault: a 500 that reveals nothing. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, "internal_error", "Something went wrong on the server. Try again later.");
}
