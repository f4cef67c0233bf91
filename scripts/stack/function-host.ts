// Runs under Deno: a function's own entry point (its `Deno.serve(handler)`), served on
// the port the local stack chose, as the Edge Runtime serves a deployed entry point on
// its own port. Usage: deno run … function-host.ts <entrypoint.ts>
const port = Number(Deno.env.get("FUNCTION_PORT"));
const entrypoint = Deno.args[0];
if (!port || !entrypoint) throw new Error("usage: FUNCTION_PORT=<port> function-host.ts <entrypoint.ts>");

type Handler = Deno.ServeHandler;
const serve = Deno.serve.bind(Deno);
// The entry point calls Deno.serve(handler) (or with options); only where it listens changes.
Object.defineProperty(Deno, "serve", {
  configurable: true,
  value: (a: Handler | Deno.ServeOptions, b?: Handler) => {
    const handler = typeof a === "function" ? a : b ?? (a as { handler?: Handler }).handler;
    if (!handler) throw new Error("Deno.serve was called without a handler");
    return serve({ port, hostname: "127.0.0.1", onListen: () => console.log(`function-host listening on ${port} (Deno ${Deno.version.deno})`) }, handler);
  },
});

// The stack holds our stdin open; when it goes away (even killed), so do we.
(async () => {
  for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
  Deno.exit(0);
})();

// Benchmarks run the function with --v8-flags=--expose-gc: then SIGUSR2 collects all garbage
// and prints the process's memory, so a reading shows what is still referenced.
const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc === "function") {
  Deno.addSignalListener("SIGUSR2", () => {
    gc();
    console.log(`function-host memory ${JSON.stringify(Deno.memoryUsage())}`);
  });
}

await import(new URL(entrypoint, `file://${Deno.cwd()}/`).href);
