// Serves the built owner's page (web/dist) with its config and a Content-Security-Policy that
// allows only the project's own origins: the page itself, the Supabase project, and the storage
// host its signed photo URLs point at.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { listenLocal, type LocalServer } from "../stack/http-server.ts";

export interface WebServeOptions {
  dir: string;
  port: number;
  supabaseUrl: string;
  /** the project's anon/publishable key: public by design */
  anonKey: string;
  /** origins signed photo URLs may point at (the Storage host) */
  imageOrigins?: string[];
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
};

export function contentSecurityPolicy(supabaseUrl: string, imageOrigins: string[] = []): string {
  const project = new URL(supabaseUrl).origin;
  const images = [...new Set([project, ...imageOrigins.map((o) => new URL(o).origin)])].join(" ");
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", `connect-src 'self' ${project}`,
    `img-src 'self' ${images}`, "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join("; ");
}

export function serveWeb(o: WebServeOptions): Promise<LocalServer> {
  const csp = contentSecurityPolicy(o.supabaseUrl, o.imageOrigins);
  const config = JSON.stringify({ supabaseUrl: o.supabaseUrl, anonKey: o.anonKey });
  const server = createServer(async (req, res) => {
    const headers = { "content-security-policy": csp, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache" };
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (req.method !== "GET" && req.method !== "HEAD") return res.writeHead(405, headers).end();
    if (path === "/config.json") return res.writeHead(200, { ...headers, "content-type": TYPES[".json"] }).end(config);
    const file = normalize(join(o.dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(normalize(o.dir))) return res.writeHead(404, headers).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found");
    }
  });
  return listenLocal(server, o.port);
}
