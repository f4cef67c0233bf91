// `npm start`: the local stack up, a simulated camera paired to the local user and
// streaming photos into it, and the curl walkthrough ready to run by hand.
//   --camera-interval-s N  seconds between photos (default 5; the device's is 30)
//   --photos N             stop the camera after N photos (default: keep going)
//   --no-camera            only the stack and the walkthrough
//   --once                 run the walkthrough and a 5-photo camera session, then stop
//   --random-ports         free ports instead of 54321-54325 (tests, parallel runs)
//   --work-dir DIR         where the stack keeps its files (default .local/stack)
// The camera replays a rendered day of real JPEGs; the photo worker runs beside the stack.
import { execFile } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { pairDevice } from "./cli/api.ts";
import { makeJpeg } from "./sample-photo.ts";
import { renderDay } from "./sim/render-day.ts";
import { buildSimCamera, type CameraEvent, startSimCamera } from "./sim/sim-camera.ts";
import { localWorkerEnv } from "./worker/stack-env.ts";
import { startPhotoWorker } from "./worker/main.ts";
import { PROJECT_ROOT, type Stack, startStack } from "./stack/stack.ts";
import { renderWalkthrough } from "./walkthrough.ts";
import { startOwnerPage } from "./web/local.ts";
import { freePort } from "./stack/ports.ts";

const { values: flags } = parseArgs({
  options: {
    once: { type: "boolean", default: false },
    "no-camera": { type: "boolean", default: false },
    "camera-interval-s": { type: "string", default: "5" },
    photos: { type: "string" },
    "random-ports": { type: "boolean", default: false },
    "work-dir": { type: "string" },
  },
});

const say = (line: string) => console.log(line);
const rel = (p: string) => relative(process.cwd(), p) || p;

const stack = await startStack({
  ports: flags["random-ports"] ? "random" : undefined,
  workDir: flags["work-dir"],
  log: (l) => { if (!l.startsWith("devices: ")) say(`  ${l}`); },
});

const stopHandlers: Array<() => void | Promise<void>> = [];
let stopping = false;
const shutdown = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  for (const stop of stopHandlers) await stop();
  say("stopping the local stack…");
  await stack.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function writeWalkthrough(s: Stack): Promise<string> {
  const photoPath = join(s.workDir, "sample.jpg");
  await writeFile(photoPath, makeJpeg(1));
  const path = join(s.workDir, "walkthrough.sh");
  await writeFile(path, renderWalkthrough({ apiBase: s.info.api_base, stackInfoPath: s.infoPath, photoPath }));
  await chmod(path, 0o755);
  return path;
}

function runWalkthrough(path: string): Promise<number> {
  // Asynchronously: the gateway answering these requests runs in this process.
  return new Promise((resolve) => {
    execFile("bash", [path], { cwd: PROJECT_ROOT }, (err, stdout, stderr) => {
      say(stdout + stderr);
      resolve(err ? 1 : 0);
    });
  });
}

function describeEvent(e: CameraEvent): string | undefined {
  const photo = `#${e.seq}`;
  switch (e.event) {
    case "activated": return "camera  activated with its pairing code; its token lives in its NVS file only";
    case "captured": return `camera  captured  ${photo}  ${((e.size as number) / 1024).toFixed(1)} KB`;
    case "uploaded": return `camera  uploaded  ${photo}  (PUT to storage)`;
    case "ingested": return `camera  ingested  ${photo}  → queued for processing`;
    case "duplicate": return `camera  ingested  ${photo}  (server already had it)`;
    case "retry": return `camera  retry     ${photo}  ${e.step} answered ${e.status || "nothing"}${e.code ? ` (${e.code})` : ""}, waiting ${e.delay_ms} ms`;
    case "quarantined": return `camera  set aside ${photo}  (${e.code})`;
    case "evicted": return `camera  card full: dropped the oldest photo ${photo}`;
    case "token_dead": return "camera  its token was refused (revoked?): uploads stop, photos stay on the card";
    case "drained": return "camera  backlog empty";
    default: return undefined;
  }
}

async function runCamera(s: Stack, photos: number | undefined, exitWhenDrained: boolean): Promise<number | null> {
  say("building the simulated camera (firmware core for the host)…");
  await buildSimCamera();
  const { device_id: deviceId, pairing_code: pairingCode } =
    await pairDevice(s.info.api_base, s.info.user_access_token, "simulated camera");
  const dir = join(s.workDir, "camera");
  await mkdir(dir, { recursive: true });
  say("rendering a simulated day of 288 frames (night, walking blur, a still desk, places)…");
  const frames = await renderDay(join(PROJECT_ROOT, ".local/frames-288"), 288);
  say(`camera  paired as device ${deviceId}; card folder ${rel(join(dir, "card"))}`);
  const run = startSimCamera({
    apiBase: s.info.api_base,
    card: join(dir, "card"),
    nvs: join(dir, "nvs.json"),
    pairingCode,
    intervalMs: Math.round(Number(flags["camera-interval-s"]) * 1000),
    photos,
    exitWhenDrained,
    frames,
    onEvent: (e) => { const line = describeEvent(e); if (line) say(line); },
  });
  stopHandlers.push(() => { run.child.kill("SIGTERM"); });
  return run.exit;
}

/** The photo worker in this process: previews and thumbnails under derivatives/ in the bucket. */
function startWorkerBeside(s: Stack): () => Promise<void> {
  const worker = startPhotoWorker({ name: "npm-start-worker" }, localWorkerEnv(s.info), (l) => say(`worker  ${l}`));
  worker.done.catch((e) => say(`worker  stopped: ${String(e)}`));
  return worker.stop;
}

// Whatever fails after the stack is up, the stack goes down with it.
try {
  const walkthroughPath = await writeWalkthrough(stack);
  const ownerPage = await startOwnerPage(stack.info, stack.workDir, flags["random-ports"] ? await freePort() : undefined);
  stopHandlers.push(() => void ownerPage.stop());
  say("");
  say("lifelog-devices local stack is up");
  say(`  API base       ${stack.info.api_base}`);
  say(`  Supabase URL   ${stack.info.supabase_url}`);
  say(`  database       ${stack.info.db_url}`);
  say(`  object store   ${stack.info.storage.endpoint}/${stack.info.storage.bucket}`);
  say(`  stack file     ${rel(stack.infoPath)}  (API base, user access token, DB URL)`);
  say(`  walkthrough    bash ${rel(walkthroughPath)}`);
  say(`  derivatives    ${stack.info.storage.endpoint}/${stack.info.storage.bucket}/derivatives/<item id>/{preview,thumbnail}.webp`);
  say(`                 on disk: ${rel(join(stack.workDir, "objects", stack.info.storage.bucket, "derivatives"))}; rows: public.photo_derivatives`);
  say(`  owner's page   ${ownerPage.signInUrl}  (opens with the local user's sign-in filled in)`);
  say("");
  const stopWorker = startWorkerBeside(stack);
  stopHandlers.push(stopWorker);

  if (flags.once) {
    say("running the walkthrough (pair → activate → upload-url → PUT → ingest → ingest again):");
    const walkthrough = await runWalkthrough(walkthroughPath);
    const camera = flags["no-camera"] ? 0 : await runCamera(stack, Number(flags.photos ?? 5), true);
    await shutdown(walkthrough === 0 && camera === 0 ? 0 : 1);
  } else if (!flags["no-camera"]) {
    say("Press Ctrl-C to stop.");
    const code = await runCamera(stack, flags.photos ? Number(flags.photos) : undefined, false);
    if (!stopping) {
      say(`camera  exited (${code})`);
    }
  } else {
    say("Press Ctrl-C to stop.");
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await shutdown(1);
}
