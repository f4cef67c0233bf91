// Parsers of the `:name` path segments routes declare; each refuses what it cannot be.
import { parseDeviceId } from "./device-id.ts";

export const PATH_PARAMS: Record<string, (segment: string) => string> = {
  device: parseDeviceId,
};
