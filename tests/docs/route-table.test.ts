import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BEGIN, END, renderRouteTable } from "../../scripts/docs/route-table.ts";

describe("docs/api.md's route table", () => {
  it("is the one the route registry renders (npm run docs:routes)", () => {
    const doc = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
    const block = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END)).trim();
    expect(block).toBe(renderRouteTable());
  });
});
