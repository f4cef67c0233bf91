/** Where a device PUTs a photo: a URL signed for one object, and the headers to send. */
export interface UploadTarget {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface StorageDriver {
  readonly name: string;
  createUploadTarget(objectKey: string, contentType: string): Promise<UploadTarget>;
  objectExists(objectKey: string): Promise<boolean>;
}

/** `url` split the way the firmware's socket code needs it. */
export function splitUploadUrl(url: string): { host: string; port: number; path: string } {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
  return { host: u.hostname, port, path: `${u.pathname}${u.search}` };
}
