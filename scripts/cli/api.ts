// HTTP calls to Supabase Auth and the devices function. Every failure becomes a CliError whose
// message says what to do, with exit code 4 when nothing answered and 5 when auth was refused.
import { CliError, ExitCode } from "./errors.ts";

export interface HttpResult {
  status: number;
  body: unknown;
  headers: Headers;
}

const TIMEOUT_MS = 15_000;

export function apiBaseFor(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/+$/, "")}/functions/v1`;
}

/** Why a fetch failed, in words: refused, unknown host, timeout, TLS. */
export function networkFailureReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  if ((err as Error).name === "TimeoutError") return `it did not answer within ${TIMEOUT_MS / 1000} seconds`;
  switch (code) {
    case "ECONNREFUSED":
      return "the connection was refused (nothing is listening there)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name could not be found";
    case "ECONNRESET":
      return "the connection was dropped";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "the connection timed out";
    default:
      if (code && /CERT|SSL|TLS/.test(code)) return `its TLS certificate was not accepted (${code})`;
      return cause?.message ?? (err as Error).message;
  }
}

/**
 * A failed certificate check in plain words: `subject` names the certificate ("it"),
 * `anchor` what its chain had to end in ("the root CA in your config").
 */
export function certificateFailureReason(code: string, message: string, subject: string, anchor: string): string {
  switch (code) {
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return `${subject} is not signed by ${anchor}`;
    case "CERT_HAS_EXPIRED":
      return `${subject} has expired`;
    case "CERT_NOT_YET_VALID":
      return `${subject} is not valid yet; is this computer's clock right?`;
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `${subject} is for another host name`;
    default:
      return `${message} (${code})`;
  }
}

/** One JSON request; "nothing answered" becomes a CliError with exit code 4. */
export async function requestJson(method: "GET" | "POST", url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${new URL(url).origin}: ${networkFailureReason(err)}`, ExitCode.unreachable);
  }
  return { status: response.status, body: parseBody(await response.text()), headers: response.headers };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) => requestJson("POST", url, body, headers);

/** A response body: parsed JSON, or the text itself when it is not JSON. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The devices API's refusal shape: {"error":{"code","message"}}. */
export function apiError(body: unknown): { code: string; message: string } | undefined {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (error && typeof error === "object" && typeof error.code === "string") {
    return { code: error.code, message: typeof error.message === "string" ? error.message : error.code };
  }
  return undefined;
}

export interface PasswordGrant {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
  user?: { id?: string; email?: string };
}

/** Supabase Auth's password grant: POST /auth/v1/token?grant_type=password. */
export async function signInWithPassword(
  supabaseUrl: string,
  email: string,
  password: string,
  anonKey?: string,
): Promise<PasswordGrant> {
  const url = `${supabaseUrl.replace(/\/+$/, "")}/auth/v1/token?grant_type=password`;
  const headers: Record<string, string> = anonKey ? { apikey: anonKey, authorization: `Bearer ${anonKey}` } : {};
  const result = await postJson(url, { email, password }, headers);
  const body = (result.body ?? {}) as Record<string, unknown>;
  if (result.status === 200 && typeof body.access_token === "string") return body as unknown as PasswordGrant;
  // GoTrue answers {error, error_description} (older) or {error_code, msg} (newer).
  const description = String(body.error_description ?? body.msg ?? body.message ?? "");
  if (result.status === 400 && /invalid login credentials/i.test(description)) {
    throw new CliError("sign-in refused: the email or password is wrong", ExitCode.auth);
  }
  if (result.status === 401 && !anonKey) {
    throw new CliError(
      "sign-in refused: this Supabase project wants its anon key; pass --anon-key or set SUPABASE_ANON_KEY",
      ExitCode.auth,
    );
  }
  if (result.status === 404) {
    throw new CliError(`${supabaseUrl} does not look like a Supabase project URL (no /auth/v1 there)`, ExitCode.failure);
  }
  throw new CliError(`sign-in failed: HTTP ${result.status}${description ? `: ${description}` : ""}`, ExitCode.auth);
}

export interface PairResponse {
  device_id: string;
  pairing_code: string;
  expires_at: string;
}

export async function pairDevice(apiBase: string, accessToken: string, name?: string): Promise<PairResponse> {
  const result = await postJson(`${apiBase}/devices/pair`, name ? { name } : {}, { authorization: `Bearer ${accessToken}` });
  if (result.status === 201) return result.body as PairResponse;
  const error = apiError(result.body);
  if (result.status === 401) {
    throw new CliError(`the API refused your session (${error?.code ?? "401"}); run \`lifelog-devices login\` again`, ExitCode.auth);
  }
  if (result.status === 429) {
    const retry = result.headers.get("retry-after");
    throw new CliError(`too many pairing codes requested${retry ? `; try again in ${retry} seconds` : ""}`, ExitCode.failure);
  }
  if (result.status === 404 && !error) {
    throw new CliError(`${apiBase}/devices/pair does not exist; is the devices function deployed?`, ExitCode.failure);
  }
  throw new CliError(`pairing failed: HTTP ${result.status}${error ? ` ${error.code}: ${error.message}` : ""}`, ExitCode.failure);
}
