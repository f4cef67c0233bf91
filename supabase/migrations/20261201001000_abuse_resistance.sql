-- Abuse resistance (issue 11): sliding-window rate limits on every route, per-pairing
-- counting of wrong activation guesses, ingested photos that cannot be signed again,
-- per-device reservation budgets, object checks at ingest, and a sweeper for uploads
-- that were never ingested. Functions of the first migration are replaced here.

-- ---------------------------------------------------------------------------
-- Rate limits: a sliding window made of ten slots. A hit is allowed while the hits of
-- the current slot and the ten before it (a window and one slot) stay within p_max, so
-- no interval of p_window_seconds, wherever it starts, ever holds more than p_max hits:
-- there is no window edge to burst across. Rows older than a day are removed by
-- processing.sweep_uploads, never on the request path.
-- ---------------------------------------------------------------------------

create or replace function device_api.rate_limit_slot_seconds(p_window_seconds integer)
returns double precision language sql immutable as $$
  select p_window_seconds / 10.0::double precision
$$;

create or replace function device_api.rate_limit_slot(p_window_seconds integer)
returns timestamptz language sql stable as $$
  select to_timestamp(floor(extract(epoch from now()) / device_api.rate_limit_slot_seconds(p_window_seconds))
                      * device_api.rate_limit_slot_seconds(p_window_seconds))
$$;

-- Hits of the bucket in the sliding window, and when the oldest of them leaves it.
create or replace function device_api.rate_limit_state(p_bucket text, p_window_seconds integer,
                                                       out hits integer, out retry_after integer)
language sql stable as $$
  select coalesce(sum(w.hits), 0)::integer,
         greatest(1, ceil(extract(epoch from min(w.window_start)) + p_window_seconds
                          + device_api.rate_limit_slot_seconds(p_window_seconds)
                          - extract(epoch from now())))::integer
  from device_api.rate_limit_windows w
  where w.bucket = p_bucket
    and w.window_start >= device_api.rate_limit_slot(p_window_seconds)
                          - make_interval(secs => p_window_seconds)
$$;

-- Seconds to wait when the bucket already holds p_max hits in its window, else null.
-- Takes the bucket's lock, so a hit recorded after it cannot be outrun.
create or replace function device_api.rate_limited_for(p_bucket text, p_max integer, p_window_seconds integer)
returns integer language plpgsql as $$
declare
  v_state record;
begin
  perform pg_advisory_xact_lock(hashtext('rate:' || p_bucket));
  select * into v_state from device_api.rate_limit_state(p_bucket, p_window_seconds);
  return case when v_state.hits >= p_max then v_state.retry_after end;
end $$;

-- Counts one hit; returns the hits now in the window.
create or replace function device_api.record_hit(p_bucket text, p_window_seconds integer)
returns integer language plpgsql as $$
begin
  -- One writer per bucket at a time: two hits in neighbouring slots cannot both pass.
  perform pg_advisory_xact_lock(hashtext('rate:' || p_bucket));
  insert into device_api.rate_limit_windows as w (bucket, window_start, hits)
  values (p_bucket, device_api.rate_limit_slot(p_window_seconds), 1)
  on conflict (bucket, window_start) do update set hits = w.hits + 1;
  return (select s.hits from device_api.rate_limit_state(p_bucket, p_window_seconds) s);
end $$;

-- The general entry point for every route: counts a hit and fails with 429 and
-- Retry-After when the window would hold more than p_max; the failure rolls the
-- count back. Same name and arguments as in the first migration.
create or replace function device_api.take_rate_limit(p_bucket text, p_max integer, p_window_seconds integer,
                                                      p_what text)
returns void language plpgsql as $$
begin
  if device_api.record_hit(p_bucket, p_window_seconds) > p_max then
    perform device_api.fail(429, 'rate_limited', 'Too many ' || p_what || '; try again later.',
                            (select s.retry_after from device_api.rate_limit_state(p_bucket, p_window_seconds) s));
  end if;
end $$;

-- Per-device and per-user limits of a device route, per minute (one call per route).
create or replace function device_api.take_device_rate_limits(p_device public.devices, p_route text,
                                                              p_per_device integer, p_per_user integer)
returns void language plpgsql as $$
begin
  perform device_api.take_rate_limit(p_route || ':device:' || p_device.id, p_per_device, 60,
                                     p_route || ' requests from this device');
  perform device_api.take_rate_limit(p_route || ':user:' || p_device.user_id, p_per_user, 60,
                                     p_route || ' requests from this account''s devices');
end $$;

-- ---------------------------------------------------------------------------
-- Tables: what the new rules need to remember.
-- ---------------------------------------------------------------------------

-- The first letters of a pairing code select the pairing (not secret); wrong guesses
-- sharing them count against that pairing only.
alter table public.device_pairing_codes
  add column lookup_prefix text,
  add column failed_guesses integer not null default 0 check (failed_guesses >= 0);
create index device_pairing_codes_live_prefix_idx on public.device_pairing_codes (lookup_prefix)
  where used_at is null;
-- Codes issued before this migration have no prefix, so wrong guesses at them could not be
-- counted: they end now (their owners pair again).
update public.device_pairing_codes set expires_at = greatest(created_at + interval '1 second', now())
 where used_at is null and expires_at > now();

alter table public.device_upload_reservations
  -- what the upload was signed for: the store refuses other bytes where it can
  add column declared_size bigint check (declared_size is null or declared_size > 0),
  add column sha256 text check (sha256 is null or sha256 ~ '^[0-9a-f]{64}$'),
  -- the last upload URL for this key stops working then; the sweeper waits for it
  add column signed_until timestamptz not null default now(),
  add column ingested_item_id uuid references public.source_items (id) on delete set null,
  add column ingested_at timestamptz,
  add constraint reservation_seq_fits_the_device check (seq <= 4294967295);
create index device_upload_reservations_outstanding_idx on public.device_upload_reservations (device_id, created_at)
  where ingested_at is null;

alter table public.source_items
  add column sha256 text check (sha256 is null or sha256 ~ '^[0-9a-f]{64}$'),
  -- true when the store itself compared the bytes with sha256 on the PUT
  add column sha256_verified boolean not null default false,
  add column size_bytes bigint check (size_bytes is null or size_bytes > 0);

-- Objects the sweeper still has to delete from storage (survives a crash mid-sweep).
create table device_api.storage_deletions (
  object_key  text primary key,
  queued_at   timestamptz not null default now(),
  reason      text not null
);
alter table device_api.storage_deletions enable row level security;
revoke all on device_api.storage_deletions from public;

-- ---------------------------------------------------------------------------
-- POST /devices/pair: now also stores the code's lookup prefix.
-- ---------------------------------------------------------------------------
drop function device_api.pair(uuid, text, text, integer, integer);
create function device_api.pair(p_user_id uuid, p_name text, p_code_hash text, p_lookup_prefix text,
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
  insert into public.device_pairing_codes (device_id, code_hash, lookup_prefix, expires_at)
    values (v_device_id, p_code_hash, p_lookup_prefix, v_expires);
  return query select v_device_id, v_expires;
end $$;

-- ---------------------------------------------------------------------------
-- POST /devices/activate. Returns jsonb instead of raising so that a wrong guess is
-- committed: it is what the limits count. A wrong guess counts against the live
-- pairings whose lookup prefix it shares, and a pairing takes at most
-- p_max_failures wrong guesses in its life (then even the right code is refused), so
-- its code survives at most that many guesses at its secret letters. Failures of
-- all clients together are also capped per window (p_global_max), which only
-- protects the database: it is far above what one pairing can take.
-- ---------------------------------------------------------------------------
drop function device_api.activate(text, text, integer, integer, text);
create function device_api.activate(p_code_hash text, p_lookup_prefix text, p_token_hash text,
                                    p_max_failures integer, p_global_max integer, p_global_window_seconds integer,
                                    p_activation_key_hash text default null)
returns jsonb language plpgsql as $$
declare
  v_code public.device_pairing_codes;
  v_device public.devices;
  v_retrying boolean;
  v_retry integer;
  v_error jsonb;
begin
  v_retry := device_api.rate_limited_for('activate:failures', p_global_max, p_global_window_seconds);
  if v_retry is not null then
    return jsonb_build_object('error', jsonb_build_object(
      'status', 429, 'code', 'rate_limited', 'retry_after', v_retry,
      'message', 'Too many failed activation attempts right now; try again later.'));
  end if;

  select * into v_code from public.device_pairing_codes where code_hash = p_code_hash for update;
  if v_code.id is null then
    -- The guess was wrong for every pairing it could have been meant for.
    update public.device_pairing_codes
       set failed_guesses = failed_guesses + 1
     where lookup_prefix = p_lookup_prefix and used_at is null and expires_at > now();
    perform device_api.record_hit('activate:failures', p_global_window_seconds);
    return jsonb_build_object('error', jsonb_build_object('status', 404, 'code', 'pairing_code_invalid',
      'message', 'This pairing code does not exist. Check it and try again.'));
  end if;

  select * into v_device from public.devices where id = v_code.device_id;
  v_retrying := v_code.used_at is not null and v_code.expires_at > now()
                and v_code.activation_key_hash = p_activation_key_hash;
  if not coalesce(v_retrying, false) then
    if v_code.used_at is not null then
      v_error := jsonb_build_object('status', 409, 'code', 'pairing_code_used',
        'message', 'This pairing code has already been used. Pair the device again for a new one.');
    elsif v_code.expires_at <= now() then
      v_error := jsonb_build_object('status', 410, 'code', 'pairing_code_expired',
        'message', 'This pairing code has expired. Pair the device again for a new one.');
    elsif v_code.failed_guesses >= p_max_failures then
      v_error := jsonb_build_object('status', 410, 'code', 'pairing_code_locked',
        'message', 'This pairing code took too many wrong guesses and no longer works. Pair the device again.');
    end if;
    if v_error is not null then
      update public.device_pairing_codes set attempts = attempts + 1 where id = v_code.id;
      perform device_api.record_hit('activate:failures', p_global_window_seconds);
      return jsonb_build_object('error', v_error);
    end if;
  end if;
  -- Checked before anything is written: a refused activation leaves the code unused.
  if v_device.revoked_at is not null then
    return jsonb_build_object('error', jsonb_build_object('status', 409, 'code', 'device_revoked',
      'message', 'The device for this pairing code has been removed.'));
  end if;

  if not coalesce(v_retrying, false) then
    update public.device_pairing_codes set used_at = now(), activation_key_hash = p_activation_key_hash
     where id = v_code.id;
  end if;
  update public.devices
     set device_token_hash = p_token_hash, activated_at = coalesce(activated_at, now()), last_seen_at = now()
   where id = v_code.device_id;
  return jsonb_build_object('device_id', v_code.device_id);
end $$;

-- ---------------------------------------------------------------------------
-- POST /devices/upload-url: the object key reserved for (device, seq), made on first
-- ask. An ingested seq is never signed again (status 'ingested' with its item). A
-- device holds at most p_max_outstanding reservations that are neither ingested nor
-- older than p_reservation_ttl_seconds.
-- ---------------------------------------------------------------------------
drop function device_api.reserve_upload(text, bigint, text, text);
create function device_api.reserve_upload(p_token_hash text, p_seq bigint, p_filename text, p_content_type text,
                                          p_size bigint, p_sha256 text, p_url_ttl_seconds integer,
                                          p_max_outstanding integer, p_reservation_ttl_seconds integer,
                                          p_per_device_per_minute integer, p_per_user_per_minute integer)
returns table (status text, device_id uuid, object_key text, item_id uuid, declared_size bigint, sha256 text)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_reservation public.device_upload_reservations;
  v_oldest timestamptz;
  v_outstanding integer;
begin
  perform device_api.take_device_rate_limits(v_device, 'upload-url', p_per_device_per_minute, p_per_user_per_minute);
  -- One reservation decision per device at a time: the budget cannot be outrun.
  perform pg_advisory_xact_lock(hashtext('reserve:' || v_device.id));

  select * into v_reservation from public.device_upload_reservations r
   where r.device_id = v_device.id and r.seq = p_seq for update;
  if found then
    if v_reservation.ingested_at is not null then
      return query select 'ingested'::text, v_device.id, v_reservation.object_key, v_reservation.ingested_item_id,
                          null::bigint, null::text;
      return;
    end if;
    -- What the first ask declared is fixed: an ask that declares something else is another photo.
    if v_reservation.content_type <> p_content_type
       or (p_size is not null and v_reservation.declared_size is distinct from p_size)
       or (p_sha256 is not null and v_reservation.sha256 is distinct from p_sha256) then
      perform device_api.fail(409, 'seq_conflict',
        format('Seq %s was reserved for another photo (type, size or checksum differ).', p_seq));
    end if;
    update public.device_upload_reservations r
       set signed_until = greatest(r.signed_until, now() + make_interval(secs => p_url_ttl_seconds))
     where r.id = v_reservation.id
    returning * into v_reservation;
    return query select 'reserved'::text, v_device.id, v_reservation.object_key, null::uuid,
                        v_reservation.declared_size, v_reservation.sha256;
    return;
  end if;

  select count(*), min(r.created_at) into v_outstanding, v_oldest
    from public.device_upload_reservations r
   where r.device_id = v_device.id and r.ingested_at is null
     and r.created_at > now() - make_interval(secs => p_reservation_ttl_seconds);
  if v_outstanding >= p_max_outstanding then
    perform device_api.fail(429, 'too_many_reservations',
      format('This device already holds %s uploads that were not ingested; ingest them first.', v_outstanding),
      greatest(1, ceil(extract(epoch from v_oldest + make_interval(secs => p_reservation_ttl_seconds) - now())))::integer);
  end if;

  -- A random part makes each reservation's key new: a key the sweeper is deleting is
  -- never handed out again.
  insert into public.device_upload_reservations (device_id, seq, object_key, content_type, declared_size, sha256,
                                                 signed_until)
  values (v_device.id, p_seq,
          format('devices/%s/%s/%s-%s-%s', v_device.id, to_char(now() at time zone 'utc', 'YYYY/MM/DD'), p_seq,
                 substr(md5(gen_random_uuid()::text), 1, 8), p_filename),
          p_content_type, p_size, p_sha256, now() + make_interval(secs => p_url_ttl_seconds))
  returning * into v_reservation;
  return query select 'reserved'::text, v_device.id, v_reservation.object_key, null::uuid,
                      v_reservation.declared_size, v_reservation.sha256;
end $$;

-- ---------------------------------------------------------------------------
-- POST /devices/ingest, in two calls of one function. Without p_object it checks the
-- token, the limits and the reservation, and answers 'duplicate' or 'inspect' (the
-- function then looks at storage, and only then). With p_object, what storage holds
-- ({exists, size, jpeg}), it checks the token again and records the item: exactly one
-- item and one job per (device, seq).
-- ---------------------------------------------------------------------------
drop function device_api.ingest(text, bigint, text, timestamptz, text, boolean, jsonb, boolean);
create function device_api.ingest(p_token_hash text, p_seq bigint, p_object_key text,
                                  p_captured_at timestamptz, p_content_type text,
                                  p_ntp_synced boolean, p_metadata jsonb, p_object jsonb,
                                  p_max_bytes bigint, p_store_verifies_sha256 boolean,
                                  p_per_device_per_minute integer, p_per_user_per_minute integer)
returns table (status text, item_id uuid, task_id uuid)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_reservation public.device_upload_reservations;
  v_item public.source_items;
  v_job_id uuid;
  v_size bigint;
  v_declared_sha text := p_metadata ->> 'sha256';
begin
  if p_object is null then
    perform device_api.take_device_rate_limits(v_device, 'ingest', p_per_device_per_minute, p_per_user_per_minute);
  end if;
  select * into v_reservation from public.device_upload_reservations r
   where r.object_key = p_object_key and r.device_id = v_device.id
   for update;
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
  if p_object is null then
    return query select 'inspect'::text, null::uuid, null::uuid;
    return;
  end if;

  if not coalesce((p_object ->> 'exists')::boolean, false) then
    perform device_api.fail(409, 'object_missing',
      'The photo is not in storage yet. Upload it again, then retry the ingest.');
  end if;
  v_size := (p_object ->> 'size')::bigint;
  if v_size > p_max_bytes then
    perform device_api.fail(413, 'photo_too_large',
      format('The stored photo has %s bytes; at most %s are accepted. It was deleted.', v_size, p_max_bytes));
  end if;
  if v_size = 0 or (v_reservation.declared_size is not null and v_size <> v_reservation.declared_size) then
    perform device_api.fail(422, 'photo_size_mismatch',
      format('The stored photo has %s bytes, not the %s declared. It was deleted; upload it again.',
             v_size, coalesce(v_reservation.declared_size::text, 'non-zero')));
  end if;
  if not coalesce((p_object ->> 'jpeg')::boolean, false) then
    perform device_api.fail(422, 'photo_not_jpeg',
      'The stored bytes do not start like a JPEG (FF D8 FF). It was deleted.');
  end if;
  if v_declared_sha is not null and v_reservation.sha256 is not null and lower(v_declared_sha) <> v_reservation.sha256 then
    perform device_api.fail(409, 'checksum_mismatch',
      'metadata.sha256 differs from the checksum the upload was signed with.');
  end if;

  insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at,
                                   ntp_synced, device_id, device_seq, metadata, sha256, sha256_verified, size_bytes)
  values (v_device.user_id, 'photo', p_object_key, v_reservation.content_type, p_captured_at,
          p_ntp_synced, v_device.id, p_seq, coalesce(p_metadata, '{}'::jsonb),
          coalesce(v_reservation.sha256, case when v_declared_sha ~ '^[0-9a-fA-F]{64}$' then lower(v_declared_sha) end),
          v_reservation.sha256 is not null and p_store_verifies_sha256, v_size)
  on conflict (device_id, device_seq) do nothing
  returning * into v_item;

  if v_item.id is null then
    -- a concurrent call with the same key committed first
    select * into v_item from public.source_items i
     where i.device_id = v_device.id and i.device_seq = p_seq;
    return query select 'duplicate'::text, v_item.id, null::uuid;
    return;
  end if;

  update public.device_upload_reservations set ingested_at = now(), ingested_item_id = v_item.id
   where id = v_reservation.id;
  insert into public.processing_jobs (item_id) values (v_item.id) returning id into v_job_id;
  return query select 'queued'::text, v_item.id, v_job_id;
end $$;

revoke all on all functions in schema device_api from public;

-- ---------------------------------------------------------------------------
-- The sweeper (worker or schedule, as service_role): reservations never ingested
-- whose last upload URL has expired, once they are older than p_ttl_seconds or their
-- device is revoked, go into the deletion queue; the caller deletes each queued
-- object from storage and confirms. Keys are never reused (see reserve_upload), so a
-- queued key cannot belong to a newer upload. Also drops day-old rate-limit slots.
-- ---------------------------------------------------------------------------
create function processing.sweep_uploads(p_ttl_seconds integer, p_limit integer default 500)
returns table (object_key text)
language plpgsql security definer set search_path = '' as $$
begin
  if p_ttl_seconds < 1 or p_limit < 1 then
    raise exception 'sweep_uploads: ttl and limit must be positive' using errcode = '22023';
  end if;
  with gone as (
    delete from public.device_upload_reservations r
     using public.devices d
     where d.id = r.device_id
       and r.ingested_at is null
       and r.signed_until < now()
       and (r.created_at < now() - make_interval(secs => p_ttl_seconds) or d.revoked_at is not null)
    returning r.object_key, d.revoked_at is not null as revoked
  )
  insert into device_api.storage_deletions (object_key, reason)
  select g.object_key, case when g.revoked then 'device revoked' else 'never ingested' end from gone g
  on conflict do nothing;
  delete from device_api.rate_limit_windows where window_start < now() - interval '1 day';
  return query select q.object_key from device_api.storage_deletions q order by q.queued_at limit p_limit;
end $$;

create function processing.confirm_deleted(p_object_keys text[])
returns integer language sql security definer set search_path = '' as $$
  with done as (delete from device_api.storage_deletions q where q.object_key = any (p_object_keys) returning 1)
  select count(*)::integer from done
$$;

revoke all on function processing.sweep_uploads(integer, integer), processing.confirm_deleted(text[]) from public;
grant execute on function processing.sweep_uploads(integer, integer), processing.confirm_deleted(text[])
  to service_role;
