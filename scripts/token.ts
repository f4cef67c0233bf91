// `npm run token`: a fresh access token for the local stack's test user, printed to
// stdout (for curl and other tools). Reads the running stack's files.
//   --work-dir DIR   the stack's folder (default .local/stack)
//   --ttl SECONDS    lifetime (default 3600)
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mintAccessToken } from "./stack/auth.ts";
import { DEFAULT_WORK_DIR, type StackInfo } from "./stack/stack.ts";

const { values } = parseArgs({ options: { "work-dir": { type: "string" }, ttl: { type: "string", default: "3600" } } });
const dir = values["work-dir"] ?? DEFAULT_WORK_DIR;
try {
  const info: StackInfo = JSON.parse(await readFile(join(dir, "stack.json"), "utf8"));
  const key = JSON.parse(await readFile(join(dir, "auth-key.json"), "utf8"));
  process.stdout.write(await mintAccessToken(key, info.user, Number(values.ttl)) + "\n");
} catch {
  console.error(`No running local stack found in ${dir}. Start one with: npm start`);
  process.exit(1);
}
