// Sharp alone: the worker's own analysePhoto (decode at preview size, two WebP encodes, the
// measurements) in a loop over the JPEGs of a folder, `concurrency` at a time, in a process
// of its own like the worker, so both can be pinned to the same core. Prints, as the worker
// does, one JSON line: {done, elapsed_s, cpu_s, peak_rss_mb}. CPU and time count from after
// the files are read.
//
//   tsx scripts/bench/sharp-alone.ts <folder> <concurrency>
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { analysePhoto } from "../worker/analyse.ts";
import { gcTime } from "../worker/gc-time.ts";
import { threadCpuSeconds, threadCpuSince } from "../worker/thread-cpu.ts";

const [folder, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!folder || !(concurrency >= 1)) throw new Error("usage: sharp-alone.ts <folder> <concurrency>");
const names = (await readdir(folder)).filter((n) => n.endsWith(".jpg")).sort();
const files = await Promise.all(names.map((n) => readFile(join(folder, n)).then((b) => new Uint8Array(b))));

const started = performance.now();
const cpuAtStart = process.cpuUsage();
const gc = gcTime();
const threadsAtStart = threadCpuSeconds();
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < files.length) await analysePhoto(files[next++]);
}));
const cpu = process.cpuUsage(cpuAtStart);
gc.stop();
process.stdout.write(JSON.stringify({
  done: files.length, elapsed_s: +((performance.now() - started) / 1000).toFixed(3),
  cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2), gc_ms: gc.read(), thread_cpu_s: threadCpuSince(threadsAtStart), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}) + "\n");
