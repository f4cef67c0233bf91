// The seed's curl flow, run as the bash + curl script that `npm start` prints, over
// HTTP against the running stack.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { makeJpeg } from "../../scripts/sample-photo.ts";
import { parseWalkthroughOutput, renderWalkthrough } from "../../scripts/walkthrough.ts";
import { getObject, sql, stack } from "../support/stack.ts";
import { tempDir } from "../support/temp.ts";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("curl walkthrough", () => {
  it("pairs, activates, uploads, ingests once and recognises the retry", async () => {
    const dir = await tempDir("walkthrough-");
    const photo = makeJpeg(42, 320, 240);
    await writeFile(join(dir, "photo.jpg"), photo);
    await writeFile(join(dir, "walkthrough.sh"), renderWalkthrough({
      apiBase: stack.api_base,
      stackInfoPath: join(stack.workDir, "stack.json"),
      photoPath: join(dir, "photo.jpg"),
      seq: 123,
    }));
    const { stdout } = await promisify(execFile)("bash", [join(dir, "walkthrough.sh")]);
    const steps = parseWalkthroughOutput(stdout);

    expect(steps[1].pairing_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(steps[2].device_id).toBe(steps[1].device_id);
    expect(stdout).not.toMatch(/devtok_[0-9A-Za-z]{38}/); // the token is never printed
    const deviceId = steps[1].device_id as string;
    expect(steps[3].object_key).toMatch(new RegExp(`^devices/${deviceId}/\\d{4}/\\d{2}/\\d{2}/123-[0-9a-f]{8}-2026-11-26T10-15-30Z_000123\\.jpg$`));
    expect(steps[4].put_status).toBe(200);
    expect(steps[5]).toMatchObject({ status: "queued" });
    expect(steps[6]).toEqual({ status: "duplicate", item_id: steps[5].item_id });

    const stored = await getObject(steps[3].object_key as string);
    expect(stored && sha256(stored)).toBe(sha256(photo));

    const [item] = await sql`select * from public.source_items where id = ${steps[5].item_id as string}`;
    expect(item).toMatchObject({
      item_type: "photo", storage_key: steps[3].object_key, content_type: "image/jpeg",
      ntp_synced: true, device_id: deviceId, device_seq: "123", status: "queued",
      user_id: stack.user.id,
    });
    expect(item.captured_at.toISOString()).toBe("2026-11-26T10:15:30.000Z");
    const jobs = await sql`select id, status from public.processing_jobs where item_id = ${item.id}`;
    expect(jobs).toEqual([{ id: steps[5].task_id, status: "queued" }]);
  });
});
