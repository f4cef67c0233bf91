// The local object store (s3rver behind the SigV4 gate) in a process of its own, so a
// benchmark can pin it to a core and count its CPU apart from its own. Prints its
// endpoints as one JSON line on stdout; stops on SIGTERM.
//
//   tsx scripts/bench/object-store-process.ts <directory> <bucket>
import { startObjectStore } from "../stack/object-store.ts";
import { freePort } from "../stack/ports.ts";

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) throw new Error("usage: object-store-process.ts <directory> <bucket>");
const store = await startObjectStore({ directory, bucket, port: await freePort(), backendPort: await freePort() });
process.stdout.write(JSON.stringify({ endpoint: store.endpoint, backendEndpoint: store.backendEndpoint }) + "\n");
process.once("SIGTERM", () => void store.stop().finally(() => process.exit(0)));
