import type { RecentSet } from "../_shared/auth/recent-tokens.ts";
import type { UserVerifier } from "../_shared/auth/user-jwt.ts";
import type { Config } from "../_shared/config.ts";
import type { Sql } from "../_shared/db.ts";
import type { ObjectStore, StorageDriver } from "../_shared/storage/driver.ts";

/** What every route gets: settings and the adapters to the outside world. */
export interface DevicesContext {
  config: Config;
  sql: Sql;
  storage: StorageDriver & Pick<ObjectStore, "signDownloadUrls">;
  verifyUser: UserVerifier;
  /** device token hashes the database accepted lately (this isolate): see recent-tokens.ts */
  recentTokens: RecentSet;
  /** boots this isolate has recorded (device_api.note_boot): see boot-clock.ts */
  bootsNoted: RecentSet;
}
