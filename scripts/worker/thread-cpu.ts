// CPU seconds of this process's threads, summed by thread name (/proc/self/task, Linux):
// the main thread, libuv's threadpool (where sharp's libvips work runs), V8's helpers.
// The benchmark prints it to show where a photo's CPU goes; elsewhere it answers {}.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_S = 100; // USER_HZ on Linux

export function threadCpuSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/[\d-]+$/, "").trim() || "?";
      const name = tid === String(process.pid) ? "main" : comm;
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[name] = +((out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS_PER_S).toFixed(2);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU seconds by thread name since `since` (an earlier threadCpuSeconds()). */
export function threadCpuSince(since: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(threadCpuSeconds()).map(([k, v]) => [k, +(v - (since[k] ?? 0)).toFixed(2)]));
}
