// The owner's page beside the local stack (npm start): built into the stack's work dir and
// served with the stack's Supabase URL; the local gateway accepts any anon key.
import { join } from "node:path";
import { buildWeb } from "../../web/build.ts";
import type { StackInfo } from "../stack/stack.ts";
import { serveWeb } from "./serve.ts";

export const WEB_PORT = 54330;
export const LOCAL_ANON_KEY = "local-anon-key";

export async function startOwnerPage(info: StackInfo, workDir: string, port = WEB_PORT) {
  const dir = join(workDir, "web");
  const sizes = await buildWeb(dir);
  const server = await serveWeb({ dir, port, supabaseUrl: info.supabase_url, anonKey: LOCAL_ANON_KEY, imageOrigins: [info.storage.endpoint] });
  // The hash never reaches a server; the page fills its sign-in form from it once.
  const signInUrl = `${server.url}/#signin=${encodeURIComponent(info.user.email)}:${encodeURIComponent(info.user_password)}`;
  return { ...server, sizes, signInUrl };
}
