// Every route of the `devices` function, declared once. The dispatcher (handler.ts), the
// hostile and refusal suites and the route table in docs/api.md all read this list.
import type { Route } from "./route.ts";
import { activate } from "./routes/activate.ts";
import { deviceSettings } from "./routes/device-settings.ts";
import { heartbeat } from "./routes/heartbeat.ts";
import { ingest } from "./routes/ingest.ts";
import { ingestBatch } from "./routes/ingest-batch.ts";
import { listDevices } from "./routes/list-devices.ts";
import { pair } from "./routes/pair.ts";
import { renameDevice } from "./routes/rename-device.ts";
import { revokeDevice } from "./routes/revoke-device.ts";
import { rotate } from "./routes/rotate.ts";
import { uploadUrl } from "./routes/upload-url.ts";
import { uploadUrls } from "./routes/upload-urls.ts";

export const ROUTES: readonly Route[] = [
  pair,
  activate,
  uploadUrl,
  ingest,
  uploadUrls,
  ingestBatch,
  rotate,
  heartbeat,
  listDevices,
  renameDevice,
  revokeDevice,
  deviceSettings,
];
