// A device's name as its owner gives it (pair, rename).
import { z } from "zod";

export const DeviceName = z.string().trim().min(1).max(64);
