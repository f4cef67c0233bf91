// A device's name as its owner gives it (pair, rename).
import { printableText } from "../_shared/text.ts";

export const DeviceName = printableText({ min: 1, max: 64, trim: true });
