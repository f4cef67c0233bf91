// The signed-in session: Supabase URL and tokens (never the password), in
// $LIFELOG_CONFIG_DIR/credentials.json or ~/.config/lifelog-devices/credentials.json, mode 0600.
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";

import { CliError, ExitCode } from "./errors.ts";

const SessionSchema = z.object({
  supabase_url: z.string().url(),
  access_token: z.string().min(1),
  refresh_token: z.string().optional(),
  /** ISO time the access token stops working, when known. */
  expires_at: z.string().optional(),
  email: z.string().optional(),
  /** The project's anon key given at login: Supabase Auth wants it (as apikey) to refresh. */
  anon_key: z.string().optional(),
});
export type Session = z.infer<typeof SessionSchema>;

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.LIFELOG_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "lifelog-devices");
  return join(dir, "credentials.json");
}

export async function saveSession(session: Session, path = credentialsPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(session, null, 2) + "\n", { mode: 0o600 });
  await chmod(path, 0o600); // writeFile keeps the mode of an existing file
}

export async function loadSession(path = credentialsPath()): Promise<Session | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined; // missing or not JSON: as good as signed out, like a file of the wrong shape
  }
  const parsed = SessionSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export async function deleteSession(path = credentialsPath()): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}

/** The claims of a JWT, unverified: only to show who is signed in and until when. */
export function jwtClaims(token: string): { sub?: string; email?: string; exp?: number } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return claims && typeof claims === "object" ? claims : undefined;
  } catch {
    return undefined;
  }
}

function isExpired(session: Pick<Session, "expires_at">, now = new Date()): boolean {
  return session.expires_at !== undefined && new Date(session.expires_at).getTime() <= now.getTime();
}

export async function requireSession(path = credentialsPath()): Promise<Session> {
  const session = await loadSession(path);
  if (!session) throw new CliError("you are not signed in; run `lifelog-devices login` first", ExitCode.auth);
  if (isExpired(session)) {
    throw new CliError("your session has expired; run `lifelog-devices login` again", ExitCode.auth);
  }
  return session;
}
