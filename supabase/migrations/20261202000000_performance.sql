-- Performance (issue 10): ingest in one database round trip.
--
-- device_api.ingest takes two more arguments. p_limits_taken: false on a request's first
-- call (the limits are counted then), true only on the second call of the two-call path.
-- The function now also sends what storage holds on the first call when it already
-- trusts the token (so the common case is one storage read and one SQL call). With
-- p_storage_bucket (the supabase driver) the object is judged from storage.objects in
-- this same call, and storage is not asked at all.

-- upload-url's floor is the flush of its commit's WAL (README: Performance): a repeated
-- ask for a reserved seq commits without waiting for it.
-- The floor of a request that writes is the flush of its commit's WAL (README:
-- Performance). A transaction whose writes may be lost with the last moments before a
-- crash (rate-limit hits, a later signed_until) commits without waiting for it, unless
-- it also wrote something that must survive (a reservation, an ingested item): that
-- one is flushed, and with it everything before it.
create function device_api.commit_lazily()
returns void language sql as $$
  select set_config('device_api.synchronous_commit_was', current_setting('synchronous_commit'), true),
         set_config('synchronous_commit', 'off', true)
   where current_setting('device_api.must_flush', true) is distinct from 'on'
     and coalesce(current_setting('device_api.synchronous_commit_was', true), '') = ''
$$;

create function device_api.commit_durably()
returns void language sql as $$
  select set_config('device_api.must_flush', 'on', true),
         set_config('synchronous_commit', coalesce(nullif(current_setting('device_api.synchronous_commit_was', true), ''),
                                                   current_setting('synchronous_commit')), true)
$$;

-- upload-url for an authenticated device, its limits taken: shared by the single and batch routes.
create function device_api.reserve_upload_for(p_device public.devices, p_seq bigint, p_filename text, p_content_type text,
                                          p_size bigint, p_sha256 text, p_url_ttl_seconds integer,
                                          p_max_outstanding integer, p_reservation_ttl_seconds integer)
returns table (status text, device_id uuid, object_key text, item_id uuid, declared_size bigint, sha256 text)
language plpgsql as $$
declare
  v_device public.devices := p_device;
  v_reservation public.device_upload_reservations;
  v_oldest timestamptz;
  v_outstanding integer;
begin
  -- One reservation decision per device at a time: the budget cannot be outrun.
  perform pg_advisory_xact_lock(hashtext('reserve:' || v_device.id));

  select * into v_reservation from public.device_upload_reservations r
   where r.device_id = v_device.id and r.seq = p_seq for update;
  if found then
    -- Nothing written here needs to survive a crash (a later signed_until, rate-limit hits).
    perform device_api.commit_lazily();
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
  perform device_api.commit_durably(); -- the device will upload to this key
  return query select 'reserved'::text, v_device.id, v_reservation.object_key, null::uuid,
                      v_reservation.declared_size, v_reservation.sha256;
end $$;

create or replace function device_api.reserve_upload(p_token_hash text, p_seq bigint, p_filename text, p_content_type text,
                                          p_size bigint, p_sha256 text, p_url_ttl_seconds integer,
                                          p_max_outstanding integer, p_reservation_ttl_seconds integer,
                                          p_per_device_per_minute integer, p_per_user_per_minute integer)
returns table (status text, device_id uuid, object_key text, item_id uuid, declared_size bigint, sha256 text)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
begin
  perform device_api.take_device_rate_limits(v_device, 'upload-url', p_per_device_per_minute, p_per_user_per_minute);
  return query select * from device_api.reserve_upload_for(v_device, p_seq, p_filename, p_content_type, p_size, p_sha256,
                                                           p_url_ttl_seconds, p_max_outstanding, p_reservation_ttl_seconds);
end $$;

drop function device_api.ingest(text, bigint, text, timestamptz, text, boolean, jsonb, jsonb, bigint, boolean, integer, integer);
-- ingest for an authenticated device, its limits taken: shared by the single and batch routes.
create function device_api.ingest_for(p_device public.devices, p_seq bigint, p_object_key text,
                                  p_captured_at timestamptz, p_content_type text,
                                  p_ntp_synced boolean, p_metadata jsonb, p_object jsonb,
                                  p_max_bytes bigint, p_store_verifies_sha256 boolean,
                                  p_storage_bucket text)
returns table (status text, item_id uuid, task_id uuid)
language plpgsql as $$
declare
  v_device public.devices := p_device;
  v_reservation public.device_upload_reservations;
  v_item public.source_items;
  v_job_id uuid;
  v_size bigint;
  v_declared_sha text := p_metadata ->> 'sha256';
begin
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
    perform device_api.commit_lazily(); -- only rate-limit hits were written
    return query select 'duplicate'::text, v_item.id, null::uuid;
    return;
  end if;
  if p_object is null and p_storage_bucket is not null then
    -- Supabase Storage records each object it stores in storage.objects (metadata.size
    -- and .mimetype as it writes them): judged here, without an HTTP request.
    select coalesce((select jsonb_build_object('exists', true, 'size', (o.metadata ->> 'size')::bigint,
                                               'jpeg', o.metadata ->> 'mimetype' = 'image/jpeg')
                       from storage.objects o where o.bucket_id = p_storage_bucket and o.name = p_object_key),
                    '{"exists": false}'::jsonb)
      into p_object;
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

  perform device_api.commit_durably();
  update public.device_upload_reservations set ingested_at = now(), ingested_item_id = v_item.id
   where id = v_reservation.id;
  insert into public.processing_jobs (item_id) values (v_item.id) returning id into v_job_id;
  return query select 'queued'::text, v_item.id, v_job_id;
end $$;

create function device_api.ingest(p_token_hash text, p_seq bigint, p_object_key text,
                                  p_captured_at timestamptz, p_content_type text,
                                  p_ntp_synced boolean, p_metadata jsonb, p_object jsonb,
                                  p_max_bytes bigint, p_store_verifies_sha256 boolean,
                                  p_per_device_per_minute integer, p_per_user_per_minute integer,
                                  p_limits_taken boolean, p_storage_bucket text)
returns table (status text, item_id uuid, task_id uuid)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
begin
  if not p_limits_taken then
    perform device_api.take_device_rate_limits(v_device, 'ingest', p_per_device_per_minute, p_per_user_per_minute);
  end if;
  return query select * from device_api.ingest_for(v_device, p_seq, p_object_key, p_captured_at, p_content_type,
                                                   p_ntp_synced, p_metadata, p_object, p_max_bytes,
                                                   p_store_verifies_sha256, p_storage_bucket);
end $$;

-- ---------------------------------------------------------------------------
-- Batch routes for drains: POST /devices/upload-urls and /devices/ingest-batch. One
-- call, one token check and one rate-limit hit per batch; each item runs the single
-- route's own function in its own subtransaction, so a refused item rolls back only
-- its own writes and answers the code the single route would have answered.
-- ---------------------------------------------------------------------------

-- A device_api.fail refusal caught in an item's subtransaction, as the item's error.
create function device_api.item_error(p_state text, p_code text, p_message text, p_hint text)
returns jsonb language sql immutable as $$
  select jsonb_strip_nulls(jsonb_build_object('status', substr(p_state, 3)::integer, 'code', p_code,
                                              'message', p_message, 'retry_after', nullif(p_hint, '')::integer))
$$;

create function device_api.reserve_uploads(p_token_hash text, p_items jsonb, p_url_ttl_seconds integer,
                                           p_max_outstanding integer, p_reservation_ttl_seconds integer,
                                           p_per_device_per_minute integer, p_per_user_per_minute integer)
returns table (idx integer, status text, object_key text, item_id uuid, declared_size bigint, sha256 text, error jsonb)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_item jsonb;
  v_idx bigint;
  v_row record;
  v_state text; v_code text; v_message text; v_hint text;
begin
  perform device_api.take_device_rate_limits(v_device, 'upload-urls', p_per_device_per_minute, p_per_user_per_minute);
  -- Rows are locked in one order (seq), so batches of the same items in another order cannot deadlock.
  for v_item, v_idx in select e.value, e.ordinality - 1 from jsonb_array_elements(p_items) with ordinality e
                        order by (e.value ->> 'seq')::bigint, e.ordinality loop
    begin
      select * into v_row from device_api.reserve_upload_for(v_device, (v_item ->> 'seq')::bigint, v_item ->> 'filename',
        v_item ->> 'content_type', (v_item ->> 'size')::bigint, v_item ->> 'sha256',
        p_url_ttl_seconds, p_max_outstanding, p_reservation_ttl_seconds);
      return query select v_idx::integer, v_row.status, v_row.object_key, v_row.item_id, v_row.declared_size,
                          v_row.sha256, null::jsonb;
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_code = message_text, v_message = pg_exception_detail,
                              v_hint = pg_exception_hint;
      if v_state not like 'LD%' then raise; end if;
      return query select v_idx::integer, 'error'::text, null::text, null::uuid, null::bigint, null::text,
                          device_api.item_error(v_state, v_code, v_message, v_hint);
    end;
  end loop;
end $$;

-- Each item: seq, object_key, captured_at, content_type, ntp_synced, metadata, and
-- object (what storage holds, or null: judged from storage.objects with
-- p_storage_bucket, else answered 'inspect').
create function device_api.ingest_many(p_token_hash text, p_items jsonb, p_max_bytes bigint,
                                       p_store_verifies_sha256 boolean, p_per_device_per_minute integer,
                                       p_per_user_per_minute integer, p_limits_taken boolean, p_storage_bucket text)
returns table (idx integer, status text, item_id uuid, task_id uuid, error jsonb)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_item jsonb;
  v_idx bigint;
  v_row record;
  v_state text; v_code text; v_message text; v_hint text;
begin
  if not p_limits_taken then
    perform device_api.take_device_rate_limits(v_device, 'ingest-batch', p_per_device_per_minute, p_per_user_per_minute);
  end if;
  -- Rows are locked in one order (object key), so batches in another order cannot deadlock.
  for v_item, v_idx in select e.value, e.ordinality - 1 from jsonb_array_elements(p_items) with ordinality e
                        order by e.value ->> 'object_key', e.ordinality loop
    begin
      select * into v_row from device_api.ingest_for(v_device, (v_item ->> 'seq')::bigint, v_item ->> 'object_key',
        (v_item ->> 'captured_at')::timestamptz, v_item ->> 'content_type', coalesce((v_item ->> 'ntp_synced')::boolean, false),
        coalesce(v_item -> 'metadata', '{}'::jsonb), nullif(v_item -> 'object', 'null'::jsonb), p_max_bytes,
        p_store_verifies_sha256, p_storage_bucket);
      return query select v_idx::integer, v_row.status, v_row.item_id, v_row.task_id, null::jsonb;
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_code = message_text, v_message = pg_exception_detail,
                              v_hint = pg_exception_hint;
      if v_state not like 'LD%' then raise; end if;
      return query select v_idx::integer, 'error'::text, null::uuid, null::uuid,
                          device_api.item_error(v_state, v_code, v_message, v_hint);
    end;
  end loop;
end $$;

revoke all on all functions in schema device_api from public;
