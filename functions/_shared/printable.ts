// What "printable text" means for everything an owner is shown that a device or a client
// wrote (device names, firmware versions, last errors): no C0/C1 controls (so no ANSI
// escapes or carriage returns), no line or paragraph separators, no unpaired surrogates,
// and no bidi controls (which reorder what a terminal or page shows around them).
// No imports: the CLI and the web page use it too.

const NOT_PRINTABLE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const NOT_PRINTABLE_ALL = new RegExp(NOT_PRINTABLE.source, "gu");

export function isPrintable(text: string): boolean {
  return !NOT_PRINTABLE.test(text);
}

/** `text` with every character that is not printable shown as U+FFFD: safe in a terminal or a page. */
export function showable(text: string): string {
  return text.replace(NOT_PRINTABLE_ALL, "\uFFFD");
}
