// The seed's curl walkthrough (pair → activate → upload-url → PUT → ingest → ingest
// again) as a bash script with the running stack's values filled in. The user's access
// token is minted from the stack's files at run time, never printed.

import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "./stack/stack.ts";

export interface WalkthroughInput {
  apiBase: string;
  stackInfoPath: string;
  photoPath: string;
  seq?: number;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function renderWalkthrough({ apiBase, stackInfoPath, photoPath, seq = 1 }: WalkthroughInput): string {
  const filename = `2026-11-26T10-15-30Z_${String(seq).padStart(6, "0")}.jpg`;
  // Steps 5 and 6 send the same request: the second is a device's retry.
  const ingest = `curl -sS -X POST "$API_BASE/devices/ingest" \\
  -H "X-Device-Token: $DEVICE_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d "{\\"object_key\\":\\"$OBJECT_KEY\\",\\"captured_at\\":\\"2026-11-26T10:15:30Z\\",\\"seq\\":${seq},\\"ntp_synced\\":true}"
`;
  return `#!/usr/bin/env bash
# The device API by hand, against the local stack. Each step prints the server's answer.
set -euo pipefail
API_BASE=${q(apiBase)}
PHOTO=${q(photoPath)}
# A fresh access token for the stack's user (the one in the stack file expires after an hour).
USER_TOKEN=$(${q(join(PROJECT_ROOT, "node_modules/.bin/tsx"))} ${q(join(PROJECT_ROOT, "scripts/token.ts"))} --work-dir ${q(dirname(stackInfoPath))})
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }

echo "## 1 pair (user-authenticated)"
PAIR=$(curl -sS -X POST "$API_BASE/devices/pair" \\
  -H "Authorization: Bearer $USER_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"name":"esp32-proto"}')
echo "$PAIR"
PAIRING_CODE=$(echo "$PAIR" | field pairing_code)

echo "## 2 activate (the device trades the pairing code for its token)"
ACTIVATE=$(curl -sS -X POST "$API_BASE/devices/activate" \\
  -H "Content-Type: application/json" \\
  -d "{\\"pairing_code\\":\\"$PAIRING_CODE\\"}")
DEVICE_TOKEN=$(echo "$ACTIVATE" | field device_token)
echo "$ACTIVATE" | sed -E 's/devtok_[0-9A-Za-z]+/devtok_<hidden>/'

echo "## 3 upload-url (device-authenticated)"
TARGET=$(curl -sS -X POST "$API_BASE/devices/upload-url" \\
  -H "X-Device-Token: $DEVICE_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"filename":"${filename}","content_type":"image/jpeg","seq":${seq}}')
echo "$TARGET"
UPLOAD_URL=$(echo "$TARGET" | field upload_url)
OBJECT_KEY=$(echo "$TARGET" | field object_key)

echo "## 4 PUT the photo bytes to the signed URL, with the upload_headers it was signed for"
curl -sS -X PUT "$UPLOAD_URL" -H "Content-Type: image/jpeg" -H "If-None-Match: *" --data-binary "@$PHOTO" \\
  -o /dev/null -w '{"put_status":%{http_code}}\\n'

echo "## 5 ingest (idempotent)"
${ingest}echo

echo "## 6 the same ingest again (a retry)"
${ingest}echo
`;
}

/** The JSON answer printed under each `## N` heading of a walkthrough run. */
export function parseWalkthroughOutput(output: string): Record<number, Record<string, unknown>> {
  const steps: Record<number, Record<string, unknown>> = {};
  let current: number | undefined;
  for (const line of output.split("\n")) {
    const heading = /^## (\d+)/.exec(line);
    if (heading) current = Number(heading[1]);
    else if (current !== undefined && line.startsWith("{")) steps[current] = JSON.parse(line);
  }
  return steps;
}
