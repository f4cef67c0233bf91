// `tsx scripts/worker/run.ts [--once] …`: the worker without building the CLI (tests, npm start).
import { parseArgs } from "node:util";
import { WORKER_OPTIONS, workerMain } from "./main.ts";

const { values } = parseArgs({ args: process.argv.slice(2), options: WORKER_OPTIONS, strict: true });
await workerMain(values, process.env);
