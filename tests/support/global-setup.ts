// Starts one local stack (real Postgres + Supabase CLI migrations, s3rver, the devices
// function under Deno) for the whole test run, on free ports, and stops it afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { deployedFunctionSource } from "../deploy/deployed-function.ts";

let stack: Stack | undefined;

export default async function setup(project: TestProject) {
  const workDir = await mkdtemp(join(tmpdir(), "lifelog-test-stack-"));
  const functionDir = await mkdtemp(join(tmpdir(), "lifelog-test-function-"));
  const log: string[] = [];
  try {
    // LIFELOG_FUNCTION_SOURCE=deployed: the function runs from the files the CLI's deploy
    // ships (tests/deploy), optionally under LIFELOG_DENO_VERSION (a version, or "edge-runtime").
    const functionSource = process.env.LIFELOG_FUNCTION_SOURCE === "deployed"
      ? await deployedFunctionSource(functionDir, process.env.LIFELOG_DENO_VERSION || undefined)
      : undefined;
    stack = await startStack({
      functionSource,
      workDir,
      ports: "random",
      log: (l) => log.push(l),
      // Refusal tests fail activations on purpose; the guessing limit has its own test.
      functionEnv: { DEVICE_ACTIVATION_FAILURES: "1000", DEVICE_ACTIVATION_FAILURES_PER_SOURCE: "100000" },
    });
  } catch (err) {
    console.error(log.join("\n"));
    throw err;
  }
  project.provide("stack", { ...stack.info, workDir, authKey: stack.authKey });
  return async () => {
    await stack?.stop();
    await rm(workDir, { recursive: true, force: true });
    await rm(functionDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: import("../../scripts/stack/stack.ts").StackInfo & {
      workDir: string;
      authKey: import("../../scripts/stack/auth.ts").AuthKey;
    };
  }
}
