import { signInWithPassword } from "../api.ts";
import type { Command } from "../command.ts";
import { credentialsPath, deleteSession, jwtClaims, saveSession, type Session } from "../credentials.ts";
import { CliError, ExitCode, usageError } from "../errors.ts";
import { promptHidden, readStdinSecret } from "../read-secret.ts";

export const login: Command = {
  name: "login",
  summary: "sign in to your Supabase project (email + password, or an access token)",
  help: `Usage:
  lifelog-devices login --url <SUPABASE_URL> --email <email> [--password-stdin] [--anon-key <key>]
  lifelog-devices login --url <SUPABASE_URL> --token-stdin | --token <access token>

Signs in and saves the session (URL, access and refresh token; never the password) in
$LIFELOG_CONFIG_DIR/credentials.json or ~/.config/lifelog-devices/credentials.json (mode 0600).

Flags:
  --url <url>         your project URL, e.g. https://abcd.supabase.co (or SUPABASE_URL)
  --email <email>     sign in with email and password; the password is asked without echo
  --password-stdin    read the password from stdin instead of asking
  --anon-key <key>    the project's anon (publishable) key, sent as apikey (or SUPABASE_ANON_KEY)
  --token-stdin       read an access token (JWT) from stdin instead
  --token <jwt>       use this access token (visible in your shell history: prefer --token-stdin)`,
  options: {
    url: { type: "string" },
    email: { type: "string" },
    "password-stdin": { type: "boolean" },
    "anon-key": { type: "string" },
    "token-stdin": { type: "boolean" },
    token: { type: "string" },
  },
  async run(values, positionals, { out, env, stdin }) {
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
    const url = (values.url as string | undefined) ?? env.SUPABASE_URL;
    if (!url) throw usageError("--url is required (your Supabase project URL), or set SUPABASE_URL");
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw usageError(`--url must start with http:// or https://, got ${url}`);
    const supabaseUrl = url.replace(/\/+$/, "");
    const usesToken = Boolean(values["token-stdin"] || values.token !== undefined);
    if (usesToken === Boolean(values.email)) throw usageError("give either --email or --token/--token-stdin");

    let session: Session;
    if (usesToken) {
      const token = values["token-stdin"] ? await readStdinSecret(stdin, "access token") : String(values.token);
      session = sessionFromToken(supabaseUrl, token.trim());
    } else {
      const email = String(values.email);
      const password = values["password-stdin"]
        ? await readStdinSecret(stdin, "password")
        : await promptHidden(`Password for ${email}: `, stdin);
      const anonKey = (values["anon-key"] as string | undefined) ?? env.SUPABASE_ANON_KEY;
      const grant = await out.step(`Signing in to ${supabaseUrl}`, () => signInWithPassword(supabaseUrl, email, password, anonKey));
      session = {
        supabase_url: supabaseUrl,
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
        expires_at: grant.expires_in ? new Date(Date.now() + grant.expires_in * 1000).toISOString() : undefined,
        email: grant.user?.email ?? email,
        anon_key: anonKey,
      };
    }
    const path = credentialsPath(env);
    await saveSession(session, path);
    out.line(`Signed in to ${supabaseUrl}${session.email ? ` as ${session.email}` : ""}.`);
    if (session.expires_at) out.line(`The session is valid until ${session.expires_at}.`);
    out.line(`Next: lifelog-devices pair --name <camera name> --write-config camera.yaml`);
    out.result({ supabase_url: supabaseUrl, email: session.email ?? null, expires_at: session.expires_at ?? null, credentials_path: path });
  },
};

function sessionFromToken(supabaseUrl: string, token: string): Session {
  const claims = jwtClaims(token);
  if (!claims) throw new CliError("that is not an access token (expected a JWT: three dot-separated parts)", ExitCode.auth);
  const expiresAt = typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    throw new CliError(`that access token expired at ${expiresAt.toISOString()}; get a fresh one`, ExitCode.auth);
  }
  return { supabase_url: supabaseUrl, access_token: token, expires_at: expiresAt?.toISOString(), email: claims.email };
}

export const logout: Command = {
  name: "logout",
  summary: "forget the saved session",
  help: `Usage:
  lifelog-devices logout

Deletes the saved credentials file.`,
  options: {},
  async run(_values, positionals, { out, env }) {
    if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`);
    const removed = await deleteSession(credentialsPath(env));
    out.line(removed ? "Signed out." : "You were not signed in.");
    out.result({ signed_out: removed });
  },
};
