// Entry point deployed by `supabase functions deploy devices`.
import { loadConfig } from "../_shared/config.ts";
import { createContext, createDevicesHandler } from "./handler.ts";

Deno.serve(createDevicesHandler(createContext(loadConfig(Deno.env.toObject()))));
