// Usage: npx tsx scripts/firmware/render-sketch-cli.ts <config.json> <output dir>
// Writes <output dir>/lifelog_camera/ and prints the arduino-cli compile command.
import { readFile } from "node:fs/promises";

import { renderSketch, SketchRenderError } from "./render-sketch.ts";

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 2) {
    console.error("usage: render-sketch-cli <config.json> <output dir>");
    return 2;
  }
  const [configPath, outDir] = argv;
  let config: unknown;
  try {
    config = JSON.parse(await readFile(configPath, "utf8"));
  } catch (e) {
    console.error(`render-sketch: cannot read ${configPath}: ${(e as Error).message}`);
    return 2;
  }
  try {
    const result = await renderSketch(config as never, outDir);
    console.log(`rendered ${result.files.length} files into ${result.sketchDir} (config version ${result.configVersion})`);
    console.log(`compile: ${result.compileCommand}`);
    return 0;
  } catch (e) {
    if (e instanceof SketchRenderError) {
      console.error(`render-sketch: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
