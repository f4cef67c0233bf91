-- Camera devices: pairing, device tokens, upload reservations, ingested items and
-- their processing jobs. Every route of the `devices` Edge Function is one call to a
-- function in schema device_api; the invariants live here, next to the constraints.

create extension if not exists pgcrypto with schema extensions;

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------

create table public.devices (
  id                uuid primary key default gen_random_uuid(),
  user_id           uuid not null references auth.users (id) on delete cascade,
  name              text check (name is null or char_length(name) between 1 and 64),
  -- HMAC-SHA-256 of the token under a pepper that lives only in a function secret.
  device_token_hash text unique,
  created_at        timestamptz not null default now(),
  activated_at      timestamptz,
  last_seen_at      timestamptz,
  revoked_at        timestamptz,
  firmware_version  text,
  metadata          jsonb not null default '{}'::jsonb,
  constraint activated_devices_have_a_token
    check ((activated_at is null) = (device_token_hash is null))
);
create index devices_user_id_idx on public.devices (user_id);

create table public.device_pairing_codes (
  id          uuid primary key default gen_random_uuid(),
  device_id   uuid not null references public.devices (id) on delete cascade,
  code_hash   text not null unique,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  used_at     timestamptz,
  -- times this code was presented after it stopped being valid (used or expired)
  attempts    integer not null default 0,
  -- keyed hash of the random key the activating device sent with the code: the same
  -- device may activate again until the code expires (its first answer may have been lost)
  activation_key_hash text,
  constraint pairing_code_expires_after_creation check (expires_at > created_at)
);
create index device_pairing_codes_device_idx on public.device_pairing_codes (device_id);

create table public.device_upload_reservations (
  id            uuid primary key default gen_random_uuid(),
  device_id     uuid not null references public.devices (id) on delete cascade,
  seq           bigint not null check (seq >= 0),
  object_key    text not null unique,
  content_type  text not null,
  created_at    timestamptz not null default now(),
  unique (device_id, seq),
  -- a device can only ever write below its own prefix
  constraint reservation_key_under_device_prefix
    check (starts_with(object_key, 'devices/' || device_id::text || '/'))
);

create table public.source_items (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null references auth.users (id) on delete cascade,
  item_type     text not null check (item_type in ('photo')),
  storage_key   text not null unique,
  content_type  text not null,
  captured_at   timestamptz not null,
  ntp_synced    boolean not null,
  device_id     uuid references public.devices (id) on delete set null,
  device_seq    bigint,
  metadata      jsonb not null default '{}'::jsonb,
  status        text not null default 'queued'
                check (status in ('queued', 'processing', 'processed', 'failed')),
  created_at    timestamptz not null default now(),
  -- the idempotency key of /devices/ingest
  unique (device_id, device_seq),
  constraint device_items_carry_their_seq check ((device_id is null) or (device_seq is not null))
);
create index source_items_user_captured_idx on public.source_items (user_id, captured_at desc);

create table public.processing_jobs (
  id            uuid primary key default gen_random_uuid(),
  item_id       uuid not null references public.source_items (id) on delete cascade,
  kind          text not null default 'process_photo',
  status        text not null default 'queued'
                check (status in ('queued', 'running', 'done', 'dead')),
  attempts      integer not null default 0 check (attempts >= 0),
  max_attempts  integer not null default 5 check (max_attempts > 0),
  run_after     timestamptz not null default now(),
  locked_by     text,
  lease_until   timestamptz,
  last_error    text,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  finished_at   timestamptz,
  constraint running_jobs_hold_a_lease
    check ((status = 'running') = (lease_until is not null and locked_by is not null))
);
create index processing_jobs_claimable_idx on public.processing_jobs (run_after)
  where status in ('queued', 'running');
create index processing_jobs_item_idx on public.processing_jobs (item_id);

-- ---------------------------------------------------------------------------
-- Row level security: signed-in users read their own devices, items and jobs.
-- Nobody reads token hashes, pairing codes or reservations through the API.
-- ---------------------------------------------------------------------------

alter table public.devices enable row level security;
alter table public.device_pairing_codes enable row level security;
alter table public.device_upload_reservations enable row level security;
alter table public.source_items enable row level security;
alter table public.processing_jobs enable row level security;

revoke all on public.devices, public.device_pairing_codes, public.device_upload_reservations,
  public.source_items, public.processing_jobs from anon, authenticated;

grant select (id, user_id, name, created_at, activated_at, last_seen_at, revoked_at,
  firmware_version, metadata) on public.devices to authenticated;
grant select on public.source_items, public.processing_jobs to authenticated;

create policy "owners read their devices" on public.devices
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their items" on public.source_items
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their items' jobs" on public.processing_jobs
  for select to authenticated using (exists (
    select 1 from public.source_items i
    where i.id = processing_jobs.item_id and i.user_id = (select auth.uid())));

-- ---------------------------------------------------------------------------
-- device_api: what the Edge Function calls. Not exposed through PostgREST.
-- Errors are raised with SQLSTATE 'LD' || <http status>, MESSAGE = stable code,
-- DETAIL = human message, HINT = Retry-After seconds (429 only).
-- ---------------------------------------------------------------------------

create schema device_api;
revoke all on schema device_api from public;

create table device_api.rate_limit_windows (
  bucket        text not null,
  window_start  timestamptz not null,
  hits          integer not null default 0,
  primary key (bucket, window_start)
);

create function device_api.fail(p_status integer, p_code text, p_message text,
                                p_retry_after integer default null)
returns void language plpgsql as $$
begin
  raise exception using
    errcode = 'LD' || p_status::text,
    message = p_code,
    detail = p_message,
    hint = coalesce(p_retry_after::text, '');
end $$;

create function device_api.window_start(p_window_seconds integer)
returns timestamptz language sql stable as $$
  select to_timestamp(floor(extract(epoch from now()) / p_window_seconds) * p_window_seconds)
$$;

-- Seconds until the current window closes (at least 1: a Retry-After of 0 means nothing).
create function device_api.window_seconds_left(p_window_seconds integer)
returns integer language sql stable as $$
  select greatest(1, ceil(extract(epoch from device_api.window_start(p_window_seconds)
                                             + make_interval(secs => p_window_seconds) - now()))::integer)
$$;

-- Seconds until the bucket's window closes when it already holds p_max hits, else null.
create function device_api.rate_limited_for(p_bucket text, p_max integer, p_window_seconds integer)
returns integer language sql stable as $$
  select device_api.window_seconds_left(p_window_seconds)
  from device_api.rate_limit_windows w
  where w.bucket = p_bucket
    and w.window_start = device_api.window_start(p_window_seconds)
    and w.hits >= p_max
$$;

-- Counts one hit in the bucket's current window; returns the window's count. Old
-- windows are dropped on the way (the table only ever holds a day of them).
create function device_api.record_hit(p_bucket text, p_window_seconds integer)
returns integer language plpgsql as $$
declare
  v_hits integer;
begin
  delete from device_api.rate_limit_windows where window_start < now() - interval '1 day';
  insert into device_api.rate_limit_windows as w (bucket, window_start, hits)
  values (p_bucket, device_api.window_start(p_window_seconds), 1)
  on conflict (bucket, window_start) do update set hits = w.hits + 1
  returning hits into v_hits;
  return v_hits;
end $$;

-- Counts a hit and fails with 429 when it is over p_max; the failure rolls the count
-- back. The row lock of the upsert serialises concurrent callers, so none slips past.
create function device_api.take_rate_limit(p_bucket text, p_max integer, p_window_seconds integer,
                                           p_what text)
returns void language plpgsql as $$
begin
  if device_api.record_hit(p_bucket, p_window_seconds) > p_max then
    perform device_api.fail(429, 'rate_limited', 'Too many ' || p_what || '; try again later.',
                            device_api.window_seconds_left(p_window_seconds));
  end if;
end $$;

-- The device behind a token hash, or 401. Marks it seen (at most once a minute).
create function device_api.authenticate(p_token_hash text)
returns public.devices language plpgsql as $$
declare
  v_device public.devices;
begin
  select * into v_device from public.devices where device_token_hash = p_token_hash;
  if not found then
    perform device_api.fail(401, 'invalid_token', 'The device token is not recognised.');
  end if;
  if v_device.revoked_at is not null then
    perform device_api.fail(401, 'token_revoked', 'This device token has been revoked.');
  end if;
  if v_device.last_seen_at is null or v_device.last_seen_at < now() - interval '1 minute' then
    update public.devices set last_seen_at = now() where id = v_device.id;
  end if;
  return v_device;
end $$;

-- POST /devices/pair
create function device_api.pair(p_user_id uuid, p_name text, p_code_hash text,
                                p_ttl_seconds integer, p_max_per_hour integer)
returns table (device_id uuid, expires_at timestamptz)
language plpgsql as $$
declare
  v_device_id uuid;
  v_expires timestamptz := now() + make_interval(secs => p_ttl_seconds);
begin
  if not exists (select 1 from auth.users u where u.id = p_user_id) then
    perform device_api.fail(401, 'unknown_user', 'The signed-in user does not exist.');
  end if;
  perform device_api.take_rate_limit('pair:user:' || p_user_id, p_max_per_hour, 3600,
                                     'pairing codes requested');
  insert into public.devices (user_id, name) values (p_user_id, p_name)
    returning id into v_device_id;
  insert into public.device_pairing_codes (device_id, code_hash, expires_at)
    values (v_device_id, p_code_hash, v_expires);
  return query select v_device_id, v_expires;
end $$;

-- POST /devices/activate. Returns jsonb instead of raising so that a failed attempt
-- is committed: failures are what the guessing limit counts. A used code presented
-- again with the same activation key before it expires is the same device retrying
-- after a lost answer: it gets a new token, and the one it never received dies.
create function device_api.activate(p_code_hash text, p_token_hash text, p_max_failures integer,
                                    p_window_seconds integer, p_activation_key_hash text default null)
returns jsonb language plpgsql as $$
declare
  v_code public.device_pairing_codes;
  v_retrying boolean;
  v_retry integer;
  v_error jsonb;
begin
  -- One activation at a time: the failure count checked here cannot be outrun by
  -- concurrent guesses. Activations are rare; the wait is short.
  perform pg_advisory_xact_lock(hashtext('device_api.activate'));
  v_retry := device_api.rate_limited_for('activate:failures', p_max_failures, p_window_seconds);
  if v_retry is not null then
    return jsonb_build_object('error', jsonb_build_object(
      'status', 429, 'code', 'rate_limited', 'retry_after', v_retry,
      'message', 'Too many failed activation attempts; try again later.'));
  end if;

  select * into v_code from public.device_pairing_codes where code_hash = p_code_hash for update;
  v_retrying := v_code.used_at is not null and v_code.expires_at > now()
                and v_code.activation_key_hash = p_activation_key_hash;

  if not coalesce(v_retrying, false) then
    if v_code.id is null then
      v_error := jsonb_build_object('status', 404, 'code', 'pairing_code_invalid',
        'message', 'This pairing code does not exist. Check it and try again.');
    elsif v_code.used_at is not null then
      v_error := jsonb_build_object('status', 409, 'code', 'pairing_code_used',
        'message', 'This pairing code has already been used. Pair the device again for a new one.');
    elsif v_code.expires_at <= now() then
      v_error := jsonb_build_object('status', 410, 'code', 'pairing_code_expired',
        'message', 'This pairing code has expired. Pair the device again for a new one.');
    end if;
    if v_error is not null then
      if v_code.id is not null then
        update public.device_pairing_codes set attempts = attempts + 1 where id = v_code.id;
      end if;
      perform device_api.record_hit('activate:failures', p_window_seconds);
      return jsonb_build_object('error', v_error);
    end if;
    update public.device_pairing_codes set used_at = now(), activation_key_hash = p_activation_key_hash
     where id = v_code.id;
  end if;

  update public.devices
     set device_token_hash = p_token_hash, activated_at = coalesce(activated_at, now()), last_seen_at = now()
   where id = v_code.device_id and revoked_at is null;
  if not found then
    return jsonb_build_object('error', jsonb_build_object('status', 409, 'code', 'device_revoked',
      'message', 'The device for this pairing code has been removed.'));
  end if;
  return jsonb_build_object('device_id', v_code.device_id);
end $$;

-- POST /devices/upload-url: the object key reserved for (device, seq), made on first ask.
create function device_api.reserve_upload(p_token_hash text, p_seq bigint, p_filename text,
                                          p_content_type text)
returns table (device_id uuid, object_key text)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
begin
  insert into public.device_upload_reservations (device_id, seq, object_key, content_type)
  values (v_device.id, p_seq,
          format('devices/%s/%s/%s-%s', v_device.id,
                 to_char(now() at time zone 'utc', 'YYYY/MM/DD'), p_seq, p_filename),
          p_content_type)
  on conflict on constraint device_upload_reservations_device_id_seq_key do nothing;

  return query
    select r.device_id, r.object_key from public.device_upload_reservations r
    where r.device_id = v_device.id and r.seq = p_seq;
end $$;

-- POST /devices/ingest: exactly one item and one job per (device, seq).
create function device_api.ingest(p_token_hash text, p_seq bigint, p_object_key text,
                                  p_captured_at timestamptz, p_content_type text,
                                  p_ntp_synced boolean, p_metadata jsonb,
                                  p_object_present boolean)
returns table (status text, item_id uuid, task_id uuid)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_reservation public.device_upload_reservations;
  v_item public.source_items;
  v_job_id uuid;
begin
  select * into v_reservation from public.device_upload_reservations r
   where r.object_key = p_object_key and r.device_id = v_device.id;
  if not found then
    perform device_api.fail(403, 'object_key_forbidden',
      'This object key was not reserved by this device. Ask /devices/upload-url for one.');
  end if;
  if v_reservation.seq <> p_seq then
    perform device_api.fail(409, 'seq_conflict',
      format('This object key was reserved for seq %s, not %s.', v_reservation.seq, p_seq));
  end if;
  if p_content_type is not null and v_reservation.content_type <> p_content_type then
    perform device_api.fail(409, 'content_type_mismatch',
      'The content type differs from the one the upload was reserved with.');
  end if;

  select * into v_item from public.source_items i
   where i.device_id = v_device.id and i.device_seq = p_seq;
  if found then
    return query select 'duplicate'::text, v_item.id, null::uuid;
    return;
  end if;

  if not p_object_present then
    perform device_api.fail(409, 'object_missing',
      'The photo is not in storage yet. Upload it again, then retry the ingest.');
  end if;

  insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at,
                                   ntp_synced, device_id, device_seq, metadata)
  values (v_device.user_id, 'photo', p_object_key, v_reservation.content_type, p_captured_at,
          p_ntp_synced,
          v_device.id, p_seq, coalesce(p_metadata, '{}'::jsonb))
  on conflict (device_id, device_seq) do nothing
  returning * into v_item;

  if v_item.id is null then
    -- a concurrent call with the same key committed first
    select * into v_item from public.source_items i
     where i.device_id = v_device.id and i.device_seq = p_seq;
    return query select 'duplicate'::text, v_item.id, null::uuid;
    return;
  end if;

  insert into public.processing_jobs (item_id) values (v_item.id) returning id into v_job_id;
  return query select 'queued'::text, v_item.id, v_job_id;
end $$;

revoke all on all functions in schema device_api from public;
revoke all on all tables in schema device_api from public;

-- ---------------------------------------------------------------------------
-- processing: the hand-off to whatever processes items (the Lifelog pipeline or a
-- worker). Claim a batch under a lease, then complete or fail each job. A job whose
-- lease ran out is claimable again; a job failed max_attempts times, or whose lease ran
-- out on its last attempt, is dead.
-- Security definer: callers need EXECUTE (service_role), not table privileges.
-- ---------------------------------------------------------------------------

create schema processing;
revoke all on schema processing from public;
grant usage on schema processing to service_role;

create function processing.claim_jobs(p_worker text, p_limit integer default 10,
                                      p_lease_seconds integer default 300)
returns setof public.processing_jobs
language plpgsql security definer set search_path = '' as $$
begin
  if p_limit < 1 or p_lease_seconds < 1 then
    raise exception 'claim_jobs: limit and lease must be positive' using errcode = '22023';
  end if;
  -- A lease that ran out on the last allowed attempt is a failure nobody reported
  -- (the worker crashed on this job, perhaps because of it): the job is dead.
  with lost as (
    select j.id from public.processing_jobs j
    where j.status = 'running' and j.lease_until < now() and j.attempts >= j.max_attempts
    for update skip locked
  ), dead as (
    update public.processing_jobs j
       set status = 'dead', locked_by = null, lease_until = null, updated_at = now(), finished_at = now(),
           last_error = format('the lease of attempt %s of %s ran out before the worker completed or failed the job',
                               j.attempts, j.max_attempts)
      from lost l
     where j.id = l.id
    returning j.item_id
  )
  update public.source_items i set status = 'failed' from dead d where i.id = d.item_id;

  return query
  with claimable as (
    select j.id from public.processing_jobs j
    where (j.status = 'queued' and j.run_after <= now())
       or (j.status = 'running' and j.lease_until < now() and j.attempts < j.max_attempts)
    order by j.run_after, j.created_at
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.processing_jobs j
       set status = 'running', locked_by = p_worker, attempts = j.attempts + 1,
           lease_until = now() + make_interval(secs => p_lease_seconds), updated_at = now()
      from claimable c
     where j.id = c.id
    returning j.*
  ), items as (
    update public.source_items i set status = 'processing'
      from claimed c where i.id = c.item_id
  )
  select * from claimed;
end $$;

-- True when the job was still leased to p_worker (a worker whose lease ran out and
-- whose job was claimed again must not complete it).
create function processing.complete_job(p_job_id uuid, p_worker text)
returns boolean language plpgsql security definer set search_path = '' as $$
declare
  v_item_id uuid;
begin
  update public.processing_jobs
     set status = 'done', locked_by = null, lease_until = null, updated_at = now(),
         finished_at = now(), last_error = null
   where id = p_job_id and status = 'running' and locked_by = p_worker
  returning item_id into v_item_id;
  if v_item_id is null then
    return false;
  end if;
  update public.source_items set status = 'processed' where id = v_item_id;
  return true;
end $$;

-- Records the failure; retries after p_retry_seconds (default: 30 s doubling per
-- attempt, at most an hour) until max_attempts, then the job is dead.
create function processing.fail_job(p_job_id uuid, p_worker text, p_error text,
                                    p_retry_seconds integer default null)
returns text language plpgsql security definer set search_path = '' as $$
declare
  v_job public.processing_jobs;
begin
  select * into v_job from public.processing_jobs
   where id = p_job_id and status = 'running' and locked_by = p_worker for update;
  if not found then
    return null;
  end if;
  if v_job.attempts >= v_job.max_attempts then
    update public.processing_jobs
       set status = 'dead', locked_by = null, lease_until = null, last_error = p_error,
           updated_at = now(), finished_at = now()
     where id = p_job_id;
    update public.source_items set status = 'failed' where id = v_job.item_id;
    return 'dead';
  end if;
  update public.processing_jobs
     set status = 'queued', locked_by = null, lease_until = null, last_error = p_error,
         updated_at = now(),
         run_after = now() + make_interval(secs => coalesce(p_retry_seconds,
                                              least(3600, 30 * power(2, v_job.attempts - 1))))
   where id = p_job_id;
  update public.source_items set status = 'queued' where id = v_job.item_id;
  return 'queued';
end $$;

revoke all on all functions in schema processing from public;
grant execute on all functions in schema processing to service_role;

-- ---------------------------------------------------------------------------
-- The private photo bucket on a Supabase project (Storage enforces its limits).
-- Absent on a bare Postgres, where the local stack uses an S3-compatible store.
-- ---------------------------------------------------------------------------
do $$
begin
  if to_regclass('storage.buckets') is not null then
    insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
    values ('device-photos', 'device-photos', false, 10485760, array['image/jpeg'])
    on conflict (id) do nothing;
  end if;
end $$;
