// A stand-in for the Supabase Management API, only as far as `supabase functions deploy`
// uses it, so the pinned CLI can run its real deploy here and we can read what it ships.
// Routes, shapes and status codes as the CLI's Go client expects them (supabase/cli
// pkg/function/deploy.go: POST /v1/projects/{ref}/functions/deploy?slug=… with a
// multipart body, 201 DeployFunctionResponse; batch.go: GET …/functions, 200 list).
// Anything else is a 404, as the real API answers unknown routes; that includes the CLI's
// telemetry lookup GET /v1/projects/{ref} (cmd/root.go ensureProjectGroupsCached), which
// would otherwise write supabase/.temp/linked-project.json into the working tree.
import { createServer, type IncomingMessage } from "node:http";
import { listenLocal } from "../../scripts/stack/http-server.ts";
import { freePort } from "../../scripts/stack/ports.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ManagementApiStandIn {
  url: string;
  /** The access token the CLI must send; anything else is a 401, as the real API answers. */
  accessToken: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

function answer(req: RecordedRequest, projectRef: string, accessToken: string): { status: number; body: string } {
  if (req.headers.authorization !== `Bearer ${accessToken}`) return json(401, { message: "Unauthorized" });
  const project = `/v1/projects/${projectRef}`;
  if (req.method === "POST" && req.path === `${project}/functions/deploy`) {
    const slug = req.search.get("slug") ?? "";
    if (!/^multipart\/form-data; boundary=/.test(req.headers["content-type"] ?? "")) {
      return json(400, { message: "Expected multipart/form-data" });
    }
    return json(201, {
      id: "00000000-0000-4000-8000-000000000001", slug, name: slug, status: "ACTIVE", version: 1,
      created_at: Date.now(), updated_at: Date.now(), verify_jwt: false,
    });
  }
  if (req.method === "GET" && req.path === `${project}/functions`) return json(200, []);
  // secrets set: POST a JSON [{ name, value }] list, 201 (pkg/api V1BulkCreateSecrets)
  if (req.method === "POST" && req.path === `${project}/secrets`) return json(201, {});
  return json(404, { message: "Not Found" });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks))).on("error", reject);
  });
}

export async function startManagementApi(projectRef: string, accessToken: string): Promise<ManagementApiStandIn> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://standin");
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      search: url.searchParams,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body: await readBody(req),
    };
    requests.push(recorded);
    const { status, body } = answer(recorded, projectRef, accessToken);
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  const local = await listenLocal(server, await freePort());
  return { url: local.url, accessToken, requests, stop: local.stop };
}
