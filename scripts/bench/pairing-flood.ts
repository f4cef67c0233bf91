// `npm run bench:pairing-flood`: pairing under a flood in real time. One anonymous source
// sends wrong pairing codes as fast as it may, over all 400 lookup prefixes, for
// `--minutes` (10), against a local stack with the default limits; victims pair at the start
// and, when the flood ends, activate from addresses of their own. A benchmark, not a test:
// it prints figures (tests/api/pairing-flood.test.ts runs the same flood on a simulated clock).
// The victims' codes live `--minutes` plus 5 minutes here, so that they are still live when
// the flood ends (the default life is 10 minutes).
//
//   npm run bench:pairing-flood -- [--minutes 10] [--in-flight 16] [--victims 20]
import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PAIRING_ALPHABET, PAIRING_CODE_LENGTH } from "../../functions/_shared/auth/pairing-code.ts";
import { pairDevice } from "../cli/api.ts";
import { startStack } from "../stack/stack.ts";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    "in-flight": { type: "string", default: "16" },
    victims: { type: "string", default: "20" },
  },
});
const MINUTES = Number(args.minutes);
const IN_FLIGHT = Number(args["in-flight"]);
const VICTIMS = Number(args.victims);

function activate(apiBase: string, code: string, localAddress: string, forged: string): Promise<number> {
  const url = new URL(`${apiBase}/devices/activate`);
  const body = JSON.stringify({ pairing_code: code });
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress, agent: false,
      headers: { "content-type": "application/json", "content-length": String(body.length), "cf-connecting-ip": forged },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function randomCode(i: number): string {
  const a = PAIRING_ALPHABET;
  let code = a[Math.floor(i / a.length) % a.length] + a[i % a.length];
  while (code.length < PAIRING_CODE_LENGTH) code += a[Math.floor(Math.random() * a.length)];
  return code;
}

const workDir = await mkdtemp(join(tmpdir(), "lifelog-bench-flood-"));
const stack = await startStack({
  workDir, ports: "random",
  functionEnv: { DEVICE_PAIRING_TTL_SECONDS: String(Math.ceil((MINUTES + 5) * 60)) },
});
try {
  const apiBase = stack.info.api_base;
  const victims: string[] = [];
  for (let i = 0; i < VICTIMS; i++) {
    const { accessToken } = await stack.createUser();
    victims.push((await pairDevice(apiBase, accessToken)).pairing_code.replace("-", ""));
  }
  const statuses = new Map<number, number>();
  const deadline = Date.now() + MINUTES * 60_000;
  let sent = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (Date.now() < deadline) {
      const i = sent++;
      const code = randomCode(i);
      if (victims.includes(code)) continue;
      const status = await activate(apiBase, code, "127.0.0.2", `198.51.100.${i % 250}`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }));
  const outcomes = await Promise.all(victims.map((code, i) => activate(apiBase, code, `127.0.1.${i + 1}`, "203.0.113.1")));
  const activated = outcomes.filter((s) => s === 201).length;
  console.log(JSON.stringify({
    minutes: MINUTES, in_flight: IN_FLIGHT, flood_requests: sent, per_second: Math.round(sent / (MINUTES * 60)),
    statuses: Object.fromEntries([...statuses].sort()), victims: VICTIMS, victims_activated: activated,
  }, null, 2));
  if (activated !== VICTIMS) process.exitCode = 1;
} finally {
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
