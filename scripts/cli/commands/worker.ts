import { ConfigError } from "../../../functions/_shared/config.ts";
import type { Command } from "../command.ts";
import { CliError, ExitCode } from "../errors.ts";
import { WORKER_OPTIONS, workerMain, type WorkerValues } from "../../worker/main.ts";

export const worker: Command = {
  name: "worker",
  summary: "run the photo worker beside the project: previews, thumbnails and measurements of every photo",
  help: `Usage:
  lifelog-devices worker [--once] [--concurrency N] [--name NAME] [--lease-seconds S]

Reads the devices function's settings from the environment: SUPABASE_URL, SUPABASE_DB_URL
(or DEVICE_DB_URL), DEVICE_STORAGE_DRIVER (supabase | s3) and that driver's variables
(SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY; S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY).
Prints {done, retry, dead, lost, elapsed_s, peak_rss_mb, cpu_s, phase_ms} when it stops (SIGINT/SIGTERM, or --once when idle).

Flags:
  --once             process what is claimable, then stop (cron)
  --concurrency N    photos at a time (default 2: about one per core)
  --name NAME        the worker's name, stable across restarts (default photo-worker@<host>);
                     give each worker on one host its own
  --lease-seconds S  how long a claimed job is this worker's (default 300, at least 30)`,
  options: WORKER_OPTIONS,
  async run(values) {
    try {
      await workerMain(values as WorkerValues, process.env);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, ExitCode.configInvalid);
      throw err;
    }
  },
};
