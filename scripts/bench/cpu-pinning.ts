// Pinning processes to CPUs with taskset (util-linux), for benchmarks that measure one
// process on a core of its own while the stand-ins for remote services share the others.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A process and its children (e.g. the postmaster and its backends). */
export async function processTree(rootPid: number): Promise<number[]> {
  const pids = [rootPid];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === rootPid) pids.push(Number(name));
  }
  return pids;
}

/** Sets the CPUs (e.g. "0" or "0-1") of every thread of each process; children forked later inherit them. */
export async function pin(pids: number[], cpus: string): Promise<void> {
  for (const pid of pids) await run("taskset", ["-a", "-p", "-c", cpus, String(pid)]).catch(() => {}); // a backend that just ended
}

/** The command prefix that starts a process on `cpus` (none when null). */
export const onCpus = (cpus: string | null): string[] => (cpus === null ? [] : ["taskset", "-c", cpus]);
