// The deploy commands of docs/deploy.md, as written, through the pinned CLI against the
// Management API stand-in: `secrets set` and `functions deploy` run verbatim (only the project
// they reach is added), and every secret docs/deploy.md lists is one `supabase secrets set` accepts.
// `login` and `link` talk to supabase.com and cannot run here; `db push` runs in every
// stack start, against the hosted-like database (scripts/stack/postgres.ts).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { tempDir } from "../support/temp.ts";
import { runCliAgainstStandIn } from "./deployed-function.ts";

let deployDoc: string;
let commands: string[];
beforeAll(async () => {
  deployDoc = await readFile(join(PROJECT_ROOT, "docs/deploy.md"), "utf8");
  const block = /<!-- deploy:commands -->\n```bash\n([\s\S]*?)```/.exec(deployDoc);
  if (!block) throw new Error("docs/deploy.md: deploy block not found");
  commands = block[1].trim().split("\n").map((l) => l.replace(/\s+#.*$/, ""));
});

/** Every secret name the secrets table of docs/deploy.md lists. */
function documentedSecretNames(): string[] {
  const table = deployDoc.slice(deployDoc.indexOf("| secret | default | meaning |"));
  const rows = table.split("\n").slice(2).filter((l) => l.startsWith("|"));
  return rows.flatMap((row) => [...row.split("|")[1].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));
}

const secretsPosted = (requests: Awaited<ReturnType<typeof runCliAgainstStandIn>>["requests"]) =>
  requests.filter((r) => r.method === "POST" && r.path.endsWith("/secrets"))
    .flatMap((r) => JSON.parse(r.body.toString()) as Array<{ name: string; value: string }>);

describe("the deploy commands of docs/deploy.md", () => {
  it("is login, link, db push, secrets set, functions deploy, in that order, with nothing to fill in", () => {
    expect(commands.map((c) => c.split(" ").slice(0, 4).join(" "))).toEqual([
      "npx supabase login", "npx supabase link", "npx supabase db push",
      "npx supabase secrets set DEVICE_TOKEN_PEPPER=\"$(openssl", "npx supabase functions deploy devices",
    ].map((c) => c.split(" ").slice(0, 4).join(" ")));
    expect(commands.join("\n")).not.toMatch(/<[a-z-]+>/); // no placeholders
  });

  it("sets the pepper as written: one secret of 64 base64 characters", async () => {
    const { requests } = await runCliAgainstStandIn({ bashLine: commands[3] }, await tempDir("readme-secrets-"));
    const posted = secretsPosted(requests);
    expect(posted.map((s) => s.name)).toEqual(["DEVICE_TOKEN_PEPPER"]);
    expect(posted[0].value).toMatch(/^[A-Za-z0-9+/]{64}$/);
  });

  it("deploys the function as written", async () => {
    const { requests, output } = await runCliAgainstStandIn({ bashLine: commands[4] }, await tempDir("readme-deploy-"));
    const deploys = requests.filter((r) => r.method === "POST" && r.path.endsWith("/functions/deploy"));
    expect(deploys.map((r) => r.search.get("slug")), output).toEqual(["devices"]);
  });

  it("lists only secret names `supabase secrets set` accepts (SUPABASE_* would be skipped)", async () => {
    const names = documentedSecretNames();
    expect(names).toContain("DEVICE_LEGACY_JWT_SECRET");
    expect(names.length).toBeGreaterThan(10);
    const args = [...names, "SUPABASE_JWT_SECRET"].map((n) => `${n}=x`);
    const { requests, output } = await runCliAgainstStandIn(["secrets", "set", ...args], await tempDir("readme-names-"));
    expect(secretsPosted(requests).map((s) => s.name).sort()).toEqual([...names].sort());
    expect(output).toMatch(/Env name cannot start with SUPABASE_, skipping: SUPABASE_JWT_SECRET/);
  });
});
