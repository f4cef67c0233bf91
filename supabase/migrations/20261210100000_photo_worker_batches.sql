-- The photo worker in batches: one call claims jobs and reserves their derivative keys (what
-- claim_jobs and begin_photo_job did in two calls a photo), and one call records a batch's
-- derivatives and completes its jobs, taking the triage locks of their devices in a fixed
-- order so that two workers' batches cannot deadlock. Each job is still decided on its own:
-- a job no longer leased to the caller is left to its new holder, as complete_photo_job does.

create function processing.claim_photo_jobs(p_worker text, p_limit integer, p_lease_seconds integer)
returns table (job_id uuid, item_id uuid, storage_key text, preview_key text, thumbnail_key text)
language plpgsql security definer set search_path = '' as $$
begin
  return query
    with claimed as (
      select c.id, c.item_id, c.attempts, c.run_after, c.created_at
        from processing.claim_jobs(p_worker, p_limit, p_lease_seconds) c
    ), reserved as (
      insert into processing.derivative_uploads (object_key, item_id)
      select processing.derivative_key(c.item_id, k.kind), c.item_id
        from claimed c cross join (values ('preview'), ('thumbnail')) k (kind)
      on conflict do nothing
    )
    select c.id, i.id, i.storage_key, processing.derivative_key(i.id, 'preview'), processing.derivative_key(i.id, 'thumbnail')
      from claimed c join public.source_items i on i.id = c.item_id
     -- the worker takes them in this order: jobs tried before first, so that a worker killed
     -- again and again finishes them before their attempts run out, instead of new ones
     order by c.attempts desc, c.run_after, c.created_at;
end $$;

-- p_jobs: [{job_id, width, height, mean_luma, sharpness, dhash (text), preview_bytes, thumbnail_bytes}].
-- Answers, per job, its item, the item's device (null without one) and capture time, and
-- whether the job was completed here.
create function processing.complete_photo_jobs(p_worker text, p_jobs jsonb)
returns table (job_id uuid, item_id uuid, device_id uuid, captured_at timestamptz, done boolean)
language plpgsql security definer set search_path = '' as $$
declare
  v_device uuid;
begin
  -- devices first, in order: the same locks retriage takes, so it never waits holding others
  for v_device in
    select distinct i.device_id from jsonb_array_elements(p_jobs) e
      join public.processing_jobs j on j.id = (e->>'job_id')::uuid
      join public.source_items i on i.id = j.item_id
     where i.device_id is not null order by i.device_id
  loop
    perform pg_advisory_xact_lock(hashtext('photo-triage:' || v_device));
  end loop;
  return query
    select (e->>'job_id')::uuid, j.item_id, i.device_id, i.captured_at,
           processing.complete_photo_job((e->>'job_id')::uuid, p_worker, (e->>'width')::integer, (e->>'height')::integer,
             (e->>'mean_luma')::real, (e->>'sharpness')::real, (e->>'dhash')::bigint,
             (e->>'preview_bytes')::integer, (e->>'thumbnail_bytes')::integer)
      from jsonb_array_elements(p_jobs) with ordinality as x (e, n)
      join public.processing_jobs j on j.id = (e->>'job_id')::uuid
      join public.source_items i on i.id = j.item_id
     order by x.n;
end $$;

revoke all on function processing.claim_photo_jobs(text, integer, integer), processing.complete_photo_jobs(text, jsonb) from public;
grant execute on function processing.claim_photo_jobs(text, integer, integer), processing.complete_photo_jobs(text, jsonb) to service_role;

-- claim_photo_jobs reserves the keys begin_photo_job did, for a whole claim at once.
drop function processing.begin_photo_job(uuid, text);
