-- What a worker using the project's secret (service_role) key needs, and nothing more.
-- New public tables are granted to nobody on hosted Supabase (projects created since
-- 2026-10-30), and service_role's BYPASSRLS only skips policies, not privileges.
--
-- A worker (README "Processing hand-off"):
--   1. claims, completes and fails jobs through processing.claim_jobs / complete_job /
--      fail_job (security definer; EXECUTE and USAGE on processing are granted by
--      20261126000000_device_ingestion.sql);
--   2. reads the claimed job's item and its storage key from public.source_items;
--   3. downloads the photo through Storage with the same key (Storage's own grants).
-- It does not write jobs or items directly (the functions keep status and leases
-- consistent), and it does not read devices, pairing codes, reservations or device_api.

grant select on public.source_items to service_role;
