// The owner's firmware release routes: upload an image, create a release, list them with
// their rollout progress, halt, resume, change the rollout. Refusals become CliErrors.
import { apiBaseFor, apiError, type HttpResult, requestJson } from "./api.ts";
import type { Values } from "./command.ts";
import { CliError, ExitCode } from "./errors.ts";
import type { SignedImage } from "./firmware-signing.ts";
import { activeSession } from "./session.ts";

export interface ReleaseView {
  id: string;
  version: string;
  channel: string;
  created_at: string;
  size: number;
  sha256: string;
  key_id: string;
  min_version: string | null;
  rollout_percent: number;
  halted: boolean;
  halted_at: string | null;
  halted_reason: "owner" | "rollbacks" | null;
  progress: { offered: number; downloaded: number; installed: number; confirmed: number; rolled_back: number; refused: number };
}

export interface NewRelease extends SignedImage {
  channel: string;
  min_version: string | null;
  rollout_percent: number;
}

export interface ReleasesClient {
  /** PUTs the image unless the same bytes are stored already; true when it was sent. */
  upload(image: Uint8Array, signed: SignedImage): Promise<boolean>;
  create(release: NewRelease): Promise<ReleaseView>;
  list(): Promise<ReleaseView[]>;
  change(action: "halt" | "resume" | "rollout", releaseId: string, rolloutPercent?: number): Promise<ReleaseView>;
}

function refusal(result: HttpResult, what: string): CliError {
  const error = apiError(result.body);
  if (result.status === 401) {
    return new CliError(`the API refused your session (${error?.code ?? "401"}); run \`lifelog-devices login\` again`, ExitCode.auth);
  }
  if (result.status === 404 && !error) {
    return new CliError("the devices API is not there; is the devices function deployed (with the release routes)?", ExitCode.failure);
  }
  if (error) return new CliError(`${what} refused: ${error.message} (${error.code})`, ExitCode.failure);
  return new CliError(`${what} failed: HTTP ${result.status}`, ExitCode.failure);
}

export async function releasesClient(values: Values, env: NodeJS.ProcessEnv): Promise<ReleasesClient> {
  const session = await activeSession(env);
  const apiBase = ((values["api-base"] as string | undefined) ?? apiBaseFor(session.supabaseUrl)).replace(/\/+$/, "");
  const auth = { authorization: `Bearer ${session.accessToken}` };
  return {
    async upload(image, signed) {
      const r = await requestJson("POST", `${apiBase}/devices/release-upload-url`, { size: signed.size, sha256: signed.sha256 }, auth);
      if (r.status !== 200) throw refusal(r, "asking where to upload the image");
      const target = (r.body as { upload: { url: string; headers: Record<string, string> } | null }).upload;
      if (!target) return false;
      let put: Response;
      try {
        put = await fetch(target.url, { method: "PUT", headers: target.headers, body: image as Uint8Array<ArrayBuffer> });
      } catch (err) {
        throw new CliError(`cannot reach the storage to upload the image: ${(err as Error).message}`, ExitCode.unreachable);
      }
      await put.body?.cancel();
      if (put.status !== 200) throw new CliError(`uploading the image failed: storage answered HTTP ${put.status}`, ExitCode.failure);
      return true;
    },
    async create(release) {
      const r = await requestJson("POST", `${apiBase}/devices/releases`, release, auth);
      if (r.status !== 201) throw refusal(r, "creating the release");
      return (r.body as { release: ReleaseView }).release;
    },
    async list() {
      const r = await requestJson("GET", `${apiBase}/devices/releases`, undefined, auth);
      if (r.status !== 200) throw refusal(r, "listing releases");
      return (r.body as { releases: ReleaseView[] }).releases;
    },
    async change(action, releaseId, rolloutPercent) {
      const body = action === "rollout" ? { release_id: releaseId, rollout_percent: rolloutPercent } : { release_id: releaseId };
      const r = await requestJson("POST", `${apiBase}/devices/release-${action}`, body, auth);
      if (r.status !== 200) throw refusal(r, `${action === "rollout" ? "changing the rollout" : action === "halt" ? "halting" : "resuming"}`);
      return (r.body as { release: ReleaseView }).release;
    },
  };
}

/** The release `ref` names: its version (on --channel), its id, or a unique id prefix. */
export function findRelease(releases: ReleaseView[], ref: string, channel = "stable"): ReleaseView {
  const wanted = ref.trim().toLowerCase();
  const byVersion = releases.find((r) => r.version === wanted && r.channel === channel);
  if (byVersion) return byVersion;
  const byId = releases.filter((r) => wanted.length >= 4 && r.id.startsWith(wanted));
  if (byId.length === 1) return byId[0];
  throw new CliError(`no release "${ref}" on channel ${channel} (see \`lifelog-devices releases\`)`, ExitCode.failure);
}

export function releaseState(r: ReleaseView): string {
  if (r.halted) return r.halted_reason === "rollbacks" ? "halted (rollbacks)" : "halted";
  return r.rollout_percent === 0 ? "staged" : "rolling out";
}
