// `npm start`: the local stack up, with the device API walkthrough ready to run.
//   --once          run the walkthrough against the stack, print it, shut down
//   --random-ports  use free ports instead of 54321-54324 (for tests and parallel runs)
import { execFile } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { makeJpeg } from "./sample-photo.ts";
import { PROJECT_ROOT, startStack } from "./stack/stack.ts";
import { renderWalkthrough } from "./walkthrough.ts";

const { values: flags } = parseArgs({
  options: {
    once: { type: "boolean", default: false },
    "random-ports": { type: "boolean", default: false },
    "work-dir": { type: "string" },
  },
});

const say = (line: string) => console.log(line);
const stack = await startStack({
  ports: flags["random-ports"] ? "random" : undefined,
  workDir: flags["work-dir"],
  log: (l) => { if (!l.startsWith("devices: ")) say(`  ${l}`); },
});

let stopping = false;
const shutdown = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  say("stopping the local stack…");
  await stack.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

const photoPath = join(stack.workDir, "sample.jpg");
await writeFile(photoPath, makeJpeg(1));
const walkthroughPath = join(stack.workDir, "walkthrough.sh");
await writeFile(walkthroughPath, renderWalkthrough({
  apiBase: stack.info.api_base,
  stackInfoPath: stack.infoPath,
  photoPath,
}));
await chmod(walkthroughPath, 0o755);

const rel = (p: string) => relative(process.cwd(), p) || p;
say("");
say("lifelog-devices local stack is up");
say(`  API base       ${stack.info.api_base}`);
say(`  Supabase URL   ${stack.info.supabase_url}`);
say(`  database       ${stack.info.db_url}`);
say(`  object store   ${stack.info.storage.endpoint}/${stack.info.storage.bucket}`);
say(`  stack file     ${rel(stack.infoPath)}  (API base, user access token, DB URL)`);
say(`  walkthrough    bash ${rel(walkthroughPath)}`);
say("");

if (flags.once) {
  say("running the walkthrough (pair → activate → upload-url → PUT → ingest → ingest again):");
  // Asynchronously: the gateway answering these requests runs in this process.
  const code = await new Promise<number>((resolve) => {
    execFile("bash", [walkthroughPath], { cwd: PROJECT_ROOT }, (err, stdout, stderr) => {
      say(stdout + stderr);
      resolve(err ? 1 : 0);
    });
  });
  await shutdown(code);
} else {
  say("Press Ctrl-C to stop.");
}
