// What a simulated camera's card holds, by its layout (firmware-config/host/README.md).
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Names of the files (not folders) anywhere under `root`: none if it does not exist. */
export async function cardFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

/** The records waiting on the card: /queue/<group>/<bucket>/<seq>.jsn. */
export async function recordsOnCard(card: string): Promise<string[]> {
  return (await cardFiles(join(card, "queue"))).filter((name) => name.endsWith(".jsn"));
}
