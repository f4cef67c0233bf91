// Milliseconds this process spent in V8's garbage collector, by kind, from now on: the
// benchmark prints it beside CPU time (collections on the main thread stop the JavaScript).
import { constants, PerformanceObserver } from "node:perf_hooks";

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

export function gcTime(): { read(): Record<string, number>; stop(): void } {
  const ms: Record<string, number> = {};
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = KINDS[((e as { detail?: { kind?: number } }).detail)?.kind ?? -1] ?? "other";
      ms[kind] = (ms[kind] ?? 0) + e.duration;
      ms[`${kind}_count`] = (ms[`${kind}_count`] ?? 0) + 1;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    read: () => Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])),
    stop: () => observer.disconnect(),
  };
}
