// Runs under Deno: the `devices` function's handler, built from the same env names
// Supabase injects, served on the port the local stack chose (the deployed entry
// point, functions/devices/index.ts, lets the Edge Runtime pick the port).
import { loadConfig } from "../../functions/_shared/config.ts";
import { createContext, createDevicesHandler } from "../../functions/devices/handler.ts";

const port = Number(Deno.env.get("FUNCTION_PORT"));
const handler = createDevicesHandler(createContext(loadConfig(Deno.env.toObject())));
// The stack holds our stdin open; when it goes away (even killed), so do we.
(async () => {
  for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
  Deno.exit(0);
})();

Deno.serve({ port, hostname: "127.0.0.1", onListen: () => console.log(`function-host listening on ${port}`) }, handler);
