import type { Api } from "./api.ts";
/** What every page gets: the API, a way to show an error, and a way to stop its timers. */
export interface PageContext {
  api: Api;
  showError(err: unknown): void;
  clearError(): void;
  /** registers cleanup run when the user leaves the page */
  onLeave(fn: () => void): void;
}
