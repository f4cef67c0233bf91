-- Refusals record no rate-limit hits: the device limits are checked first and recorded only
-- when the call accepted something. The reservation budget counts only reservations whose
-- upload URL is still live. Bytes refused at ingest retire their key (refused_object_retired).

create or replace function device_api.check_device_rate_limits(p_device public.devices, p_route text,
                                                                p_per_device integer, p_per_user integer)
returns void language plpgsql as $$
declare
  v_retry integer;
begin
  -- rate_limited_for takes each bucket's lock until commit: the later record cannot be outrun.
  v_retry := device_api.rate_limited_for(p_route || ':device:' || p_device.id, p_per_device, 60);
  if v_retry is not null then
    perform device_api.fail(429, 'rate_limited', 'Too many ' || p_route || ' requests from this device; try again later.', v_retry);
  end if;
  v_retry := device_api.rate_limited_for(p_route || ':user:' || p_device.user_id, p_per_user, 60);
  if v_retry is not null then
    perform device_api.fail(429, 'rate_limited',
      'Too many ' || p_route || ' requests from this account''s devices; try again later.', v_retry);
  end if;
end $$;
revoke execute on function device_api.check_device_rate_limits(public.devices, text, integer, integer) from public;

create or replace function device_api.record_device_rate_limits(p_device public.devices, p_route text)
returns void language plpgsql as $$
begin
  perform device_api.record_hit(p_route || ':device:' || p_device.id, 60);
  perform device_api.record_hit(p_route || ':user:' || p_device.user_id, 60);
end $$;
revoke execute on function device_api.record_device_rate_limits(public.devices, text) from public;

-- p_limits_taken: an earlier call of the same request already recorded its hit.
create or replace function device_api.ingest(p_token_hash text, p_seq bigint, p_object_key text, p_captured_at timestamp with time zone, p_content_type text, p_ntp_synced boolean, p_metadata jsonb, p_object jsonb, p_max_bytes bigint, p_store_verifies_sha256 boolean, p_per_device_per_minute integer, p_per_user_per_minute integer, p_limits_taken boolean, p_storage_bucket text)
 returns table(status text, item_id uuid, task_id uuid)
 language plpgsql
as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_row record;
begin
  if not p_limits_taken then
    perform device_api.check_device_rate_limits(v_device, 'ingest', p_per_device_per_minute, p_per_user_per_minute);
  end if;
  select * into v_row from device_api.ingest_for(v_device, p_seq, p_object_key, p_captured_at, p_content_type,
                                                 p_ntp_synced, p_metadata, p_object, p_max_bytes,
                                                 p_store_verifies_sha256, p_storage_bucket);
  if not p_limits_taken and v_row.status <> 'inspect' then
    perform device_api.record_device_rate_limits(v_device, 'ingest');
  end if;
  return query select v_row.status, v_row.item_id, v_row.task_id;
end $$;

create or replace function device_api.ingest_many(p_token_hash text, p_items jsonb, p_max_bytes bigint, p_store_verifies_sha256 boolean, p_per_device_per_minute integer, p_per_user_per_minute integer, p_limits_taken boolean, p_storage_bucket text)
 returns table(idx integer, status text, item_id uuid, task_id uuid, error jsonb)
 language plpgsql
as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_item jsonb;
  v_idx bigint;
  v_row record;
  v_accepted boolean := false;
  v_state text; v_code text; v_message text; v_hint text;
begin
  if not p_limits_taken then
    perform device_api.check_device_rate_limits(v_device, 'ingest-batch', p_per_device_per_minute, p_per_user_per_minute);
  end if;
  -- Rows are locked in one order (object key), so batches in another order cannot deadlock.
  for v_item, v_idx in select e.value, e.ordinality - 1 from jsonb_array_elements(p_items) with ordinality e
                        order by e.value ->> 'object_key', e.ordinality loop
    begin
      select * into v_row from device_api.ingest_for(v_device, (v_item ->> 'seq')::bigint, v_item ->> 'object_key',
        (v_item ->> 'captured_at')::timestamptz, v_item ->> 'content_type', coalesce((v_item ->> 'ntp_synced')::boolean, false),
        coalesce(v_item -> 'metadata', '{}'::jsonb), nullif(v_item -> 'object', 'null'::jsonb), p_max_bytes,
        p_store_verifies_sha256, p_storage_bucket);
      v_accepted := v_accepted or v_row.status <> 'inspect';
      return query select v_idx::integer, v_row.status, v_row.item_id, v_row.task_id, null::jsonb;
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_code = message_text, v_message = pg_exception_detail,
                              v_hint = pg_exception_hint;
      if v_state not like 'LD%' then raise; end if;
      return query select v_idx::integer, 'error'::text, null::uuid, null::uuid,
                          device_api.item_error(v_state, v_code, v_message, v_hint);
    end;
  end loop;
  if not p_limits_taken and v_accepted then
    perform device_api.record_device_rate_limits(v_device, 'ingest-batch');
  end if;
end $$;

create or replace function device_api.reserve_upload(p_token_hash text, p_seq bigint, p_filename text, p_content_type text, p_size bigint, p_sha256 text, p_url_ttl_seconds integer, p_max_outstanding integer, p_reservation_ttl_seconds integer, p_per_device_per_minute integer, p_per_user_per_minute integer)
 returns table(status text, device_id uuid, object_key text, item_id uuid, declared_size bigint, sha256 text)
 language plpgsql
as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_row record;
begin
  perform device_api.check_device_rate_limits(v_device, 'upload-url', p_per_device_per_minute, p_per_user_per_minute);
  select * into v_row from device_api.reserve_upload_for(v_device, p_seq, p_filename, p_content_type, p_size, p_sha256,
                                                         p_url_ttl_seconds, p_max_outstanding, p_reservation_ttl_seconds);
  -- 'ingested' becomes 409 already_ingested: a refusal, so no hit.
  if v_row.status = 'reserved' then
    perform device_api.record_device_rate_limits(v_device, 'upload-url');
  end if;
  return query select v_row.status, v_row.device_id, v_row.object_key, v_row.item_id, v_row.declared_size, v_row.sha256;
end $$;

create or replace function device_api.reserve_uploads(p_token_hash text, p_items jsonb, p_url_ttl_seconds integer, p_max_outstanding integer, p_reservation_ttl_seconds integer, p_per_device_per_minute integer, p_per_user_per_minute integer)
 returns table(idx integer, status text, object_key text, item_id uuid, declared_size bigint, sha256 text, error jsonb)
 language plpgsql
as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_item jsonb;
  v_idx bigint;
  v_row record;
  v_accepted boolean := false;
  v_state text; v_code text; v_message text; v_hint text;
begin
  perform device_api.check_device_rate_limits(v_device, 'upload-urls', p_per_device_per_minute, p_per_user_per_minute);
  -- Rows are locked in one order (seq), so batches of the same items in another order cannot deadlock.
  for v_item, v_idx in select e.value, e.ordinality - 1 from jsonb_array_elements(p_items) with ordinality e
                        order by (e.value ->> 'seq')::bigint, e.ordinality loop
    begin
      select * into v_row from device_api.reserve_upload_for(v_device, (v_item ->> 'seq')::bigint, v_item ->> 'filename',
        v_item ->> 'content_type', (v_item ->> 'size')::bigint, v_item ->> 'sha256',
        p_url_ttl_seconds, p_max_outstanding, p_reservation_ttl_seconds);
      v_accepted := v_accepted or v_row.status = 'reserved';
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
  if v_accepted then
    perform device_api.record_device_rate_limits(v_device, 'upload-urls');
  end if;
end $$;

-- The budget counts live targets only: a reservation whose upload URL has expired cannot be
-- uploaded to until the device asks again (which renews it, and is counted again), so a
-- camera that lost photos holding reservations waits at most one URL lifetime.
create or replace function device_api.reserve_upload_for(p_device public.devices, p_seq bigint, p_filename text, p_content_type text, p_size bigint, p_sha256 text, p_url_ttl_seconds integer, p_max_outstanding integer, p_reservation_ttl_seconds integer)
 returns table(status text, device_id uuid, object_key text, item_id uuid, declared_size bigint, sha256 text)
 language plpgsql
as $$
declare
  v_device public.devices := p_device;
  v_reservation public.device_upload_reservations;
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
    if v_reservation.signed_until <= now() then
      perform device_api.check_reservation_budget(v_device, p_max_outstanding, p_reservation_ttl_seconds);
    end if;
    update public.device_upload_reservations r
       set signed_until = greatest(r.signed_until, now() + make_interval(secs => p_url_ttl_seconds))
     where r.id = v_reservation.id
    returning * into v_reservation;
    return query select 'reserved'::text, v_device.id, v_reservation.object_key, null::uuid,
                        v_reservation.declared_size, v_reservation.sha256;
    return;
  end if;

  perform device_api.check_reservation_budget(v_device, p_max_outstanding, p_reservation_ttl_seconds);

  -- A random part makes each reservation's key new: a key the sweeper is deleting is
  -- never handed out again.
  insert into public.device_upload_reservations (device_id, seq, object_key, content_type, declared_size, sha256,
                                                 signed_until)
  values (v_device.id, p_seq, device_api.new_object_key(v_device.id, p_seq, p_filename),
          p_content_type, p_size, p_sha256, now() + make_interval(secs => p_url_ttl_seconds))
  returning * into v_reservation;
  perform device_api.commit_durably(); -- the device will upload to this key
  return query select 'reserved'::text, v_device.id, v_reservation.object_key, null::uuid,
                      v_reservation.declared_size, v_reservation.sha256;
end $$;

create or replace function device_api.new_object_key(p_device_id uuid, p_seq bigint, p_filename text)
returns text language sql volatile as $$
  select format('devices/%s/%s/%s-%s-%s', p_device_id, to_char(now() at time zone 'utc', 'YYYY/MM/DD'), p_seq,
                substr(md5(gen_random_uuid()::text), 1, 8), p_filename)
$$;
revoke execute on function device_api.new_object_key(uuid, bigint, text) from public;

-- 429 too_many_reservations while the device holds p_max live upload targets it has not ingested.
create or replace function device_api.check_reservation_budget(p_device public.devices, p_max_outstanding integer,
                                                                p_reservation_ttl_seconds integer)
returns void language plpgsql as $$
declare
  v_outstanding integer;
  v_first_expiry timestamptz;
begin
  select count(*), min(r.signed_until) into v_outstanding, v_first_expiry
    from public.device_upload_reservations r
   where r.device_id = p_device.id and r.ingested_at is null and r.signed_until > now()
     and r.created_at > now() - make_interval(secs => p_reservation_ttl_seconds);
  if v_outstanding >= p_max_outstanding then
    perform device_api.fail(429, 'too_many_reservations',
      format('This device holds %s live upload URLs that were not ingested; ingest them or let them expire.', v_outstanding),
      greatest(1, ceil(extract(epoch from v_first_expiry - now())))::integer);
  end if;
end $$;
revoke execute on function device_api.check_reservation_budget(public.devices, integer, integer) from public;

-- Bytes refused at ingest: the reservation moves to a fresh key, so the refused key can never
-- be ingested and deleting it (now, late, or twice) cannot remove a photo that was. The old
-- key stays queued for the sweeper until its last upload URL has expired (a PUT to it until
-- then would otherwise leave an object nothing sweeps). True when the caller should delete it.
alter table device_api.storage_deletions add column not_before timestamptz;

create or replace function device_api.retire_refused_key(p_token_hash text, p_object_key text)
returns boolean language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_reservation public.device_upload_reservations;
  v_filename text;
begin
  select * into v_reservation from public.device_upload_reservations r
   where r.object_key = p_object_key and r.device_id = v_device.id for update;
  if not found or v_reservation.ingested_at is not null then
    return false;
  end if;
  v_filename := regexp_replace(p_object_key, '^.*/[0-9]+-[0-9a-f]{8}-', '');
  update public.device_upload_reservations
     set object_key = device_api.new_object_key(v_device.id, v_reservation.seq, v_filename)
   where id = v_reservation.id;
  insert into device_api.storage_deletions (object_key, reason, not_before)
  values (p_object_key, 'refused bytes', v_reservation.signed_until)
  on conflict (object_key) do update set not_before = greatest(device_api.storage_deletions.not_before, excluded.not_before);
  perform device_api.commit_durably();
  return true;
end $$;
revoke execute on function device_api.retire_refused_key(text, text) from public;

create or replace function processing.sweep_uploads(p_ttl_seconds integer, p_limit integer default 500)
 returns table(object_key text)
 language plpgsql
 security definer
 set search_path to ''
as $$
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
  return query select q.object_key from device_api.storage_deletions q
                where q.not_before is null or q.not_before < now()
                order by q.queued_at limit p_limit;
end $$;

-- A key retired for refused bytes answers as a missing object (the device uploads again, under
-- the new key its next upload-url gives), not as a key it never held.
create or replace function device_api.ingest_for(p_device public.devices, p_seq bigint, p_object_key text, p_captured_at timestamp with time zone, p_content_type text, p_ntp_synced boolean, p_metadata jsonb, p_object jsonb, p_max_bytes bigint, p_store_verifies_sha256 boolean, p_storage_bucket text)
 RETURNS TABLE(status text, item_id uuid, task_id uuid)
 LANGUAGE plpgsql
AS $function$
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
    if p_object_key like 'devices/' || v_device.id || '/%' and exists (
         select 1 from device_api.storage_deletions q where q.object_key = p_object_key and q.reason = 'refused bytes') then
      perform device_api.fail(409, 'object_missing',
        'The bytes stored under this key were refused and deleted. Ask /devices/upload-url again for a new key and upload the photo.');
    end if;
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
end $function$;
