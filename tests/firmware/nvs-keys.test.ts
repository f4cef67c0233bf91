// Every NVS key the firmware uses, read from the sources: the core's *Key constants and the
// sketch's device::key names. NVS keys are at most 15 characters (ESP-IDF nvs_flash README)
// and two settings must never share one (the owner's remote interval once reused "interval_s",
// the provisioned built-in interval's key).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";

async function nvsKeys(): Promise<Array<{ name: string; key: string; file: string }>> {
  const found: Array<{ name: string; key: string; file: string }> = [];
  const core = join(PROJECT_ROOT, "firmware-config/core/include/lifelog");
  for (const file of await readdir(core)) {
    const text = await readFile(join(core, file), "utf8");
    for (const m of text.matchAll(/constexpr const char\* (k\w*(?:Key|KeyName))\s*=\s*"([^"]*)"/g)) found.push({ name: m[1], key: m[2], file });
  }
  const settings = await readFile(join(PROJECT_ROOT, "firmware-config/sketch/device_settings.h"), "utf8");
  const block = /namespace key \{([\s\S]*?)\n\}/.exec(settings)?.[1] ?? "";
  for (const m of block.matchAll(/constexpr const char\* (k\w+)\s*=\s*"([^"]*)"/g)) found.push({ name: m[1], key: m[2], file: "device_settings.h" });
  return found;
}

it("the firmware's NVS keys are distinct and fit NVS's 15 characters", async () => {
  const keys = await nvsKeys();
  expect(keys.length).toBeGreaterThan(15);
  expect(keys.map((k) => k.key)).toContain("owner_paused");
  expect(keys.map((k) => k.key)).toContain("interval_s");
  const byKey = new Map<string, string[]>();
  for (const k of keys) byKey.set(k.key, [...(byKey.get(k.key) ?? []), `${k.file}:${k.name}`]);
  expect([...byKey].filter(([, users]) => users.length > 1)).toEqual([]);
  expect(keys.filter((k) => k.key.length > 15)).toEqual([]);
});
