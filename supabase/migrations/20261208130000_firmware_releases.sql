-- Firmware updates over the air: the owner's signed releases, a staged rollout by a
-- stable hash of the device id, offers in the heartbeat answer, per-release progress
-- from what the cameras report, and a release that halts itself when too many roll back.

-- ---------------------------------------------------------------------------
-- Versions: "major.minor.patch" compared as numbers. Anything else (a dev build's
-- "0.3.0-dirty") has no key and is never offered an update nor taken as a release.
-- ---------------------------------------------------------------------------

create function device_api.version_key(p_version text)
returns integer[] language sql immutable as $$
  select case when p_version ~ '^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$'
              then string_to_array(p_version, '.')::integer[] end
$$;

-- The device's place in every rollout, 0..99: a release at p % reaches the devices
-- below p, so raising p only adds devices. Pure function of the id: reproducible.
create function device_api.rollout_bucket(p_device_id uuid)
returns integer language sql immutable as $$
  select (('x' || substr(md5('lifelog-rollout:' || p_device_id::text), 1, 8))::bit(32)::bigint % 100)::integer
$$;

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------

alter table public.devices
  add column firmware_channel text not null default 'stable' check (firmware_channel ~ '^[a-z0-9-]{1,32}$');

create table public.firmware_releases (
  id               uuid primary key default gen_random_uuid(),
  user_id          uuid not null references auth.users (id) on delete cascade,
  created_at       timestamptz not null default now(),
  version          text not null check (device_api.version_key(version) is not null),
  channel          text not null default 'stable' check (channel ~ '^[a-z0-9-]{1,32}$'),
  -- an app slot of the XIAO ESP32S3's default partition table is 0x330000 bytes
  size             bigint not null check (size between 1 and 3342336),
  sha256           text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  -- Ed25519, detached, over firmware_signed_message(version, size, sha256)
  signature        text not null check (signature ~ '^[0-9a-f]{128}$'),
  public_key       text not null check (public_key ~ '^[0-9a-f]{64}$'),
  -- first 16 hex digits of the SHA-256 of the raw public key
  key_id           text not null check (key_id ~ '^[0-9a-f]{16}$'),
  -- the oldest running version that may take this update (null: any)
  min_version      text check (min_version is null or device_api.version_key(min_version) is not null),
  rollout_percent  integer not null check (rollout_percent between 0 and 100),
  halted           boolean not null default false,
  halted_at        timestamptz,
  halted_reason    text check (halted_reason in ('owner', 'rollbacks')),
  -- auto-halt counts only what happened after the owner last resumed
  resumed_at       timestamptz,
  object_key       text not null unique,
  unique (user_id, channel, version),
  constraint halted_has_reason check (halted = (halted_reason is not null) and halted = (halted_at is not null))
);

-- One row per (release, device): the furthest each device got. Timestamps, not counts,
-- so a report repeated by a retried heartbeat is counted once.
create table public.firmware_release_devices (
  release_id      uuid not null references public.firmware_releases (id) on delete cascade,
  device_id       uuid not null references public.devices (id) on delete cascade,
  offered_at      timestamptz not null default now(),
  downloaded_at   timestamptz,
  -- booted the new image (reported pending verification, confirmed or rolled back)
  attempted_at    timestamptz,
  confirmed_at    timestamptz,
  rolled_back_at  timestamptz,
  refused_at      timestamptz,
  last_error      text check (last_error ~ '^[a-z0-9_]{1,48}$'),
  primary key (release_id, device_id)
);
create index firmware_release_devices_device_idx on public.firmware_release_devices (device_id);

alter table public.device_status
  add column ota_state   text check (ota_state in ('idle', 'downloading', 'downloaded', 'pending_verify',
                                                   'confirmed', 'rolled_back', 'refused')),
  add column ota_version text check (ota_version is null or device_api.version_key(ota_version) is not null),
  add column ota_error   text check (ota_error ~ '^[a-z0-9_]{1,48}$');

-- ---------------------------------------------------------------------------
-- Row level security: owners read their releases and their progress; every write goes
-- through device_api.
-- ---------------------------------------------------------------------------

alter table public.firmware_releases enable row level security;
alter table public.firmware_release_devices enable row level security;
revoke all on public.firmware_releases, public.firmware_release_devices from anon, authenticated;
grant select on public.firmware_releases, public.firmware_release_devices to authenticated;
grant select (firmware_channel) on public.devices to authenticated;

create policy "owners read their releases" on public.firmware_releases
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their releases' progress" on public.firmware_release_devices
  for select to authenticated using (exists (
    select 1 from public.firmware_releases r
     where r.id = firmware_release_devices.release_id and r.user_id = (select auth.uid())));

-- ---------------------------------------------------------------------------
-- Releases: what the owner sees, create, halt/resume/rollout, list
-- ---------------------------------------------------------------------------

create function device_api.release_json(p_release public.firmware_releases)
returns jsonb language sql stable as $$
  select jsonb_build_object(
    'id', p_release.id, 'version', p_release.version, 'channel', p_release.channel,
    'created_at', p_release.created_at, 'size', p_release.size, 'sha256', p_release.sha256,
    'key_id', p_release.key_id, 'min_version', p_release.min_version,
    'rollout_percent', p_release.rollout_percent, 'halted', p_release.halted,
    'halted_at', p_release.halted_at, 'halted_reason', p_release.halted_reason,
    'progress', (select jsonb_build_object(
        'offered', count(*),
        'downloaded', count(*) filter (where d.downloaded_at is not null),
        'installed', count(*) filter (where d.attempted_at is not null),
        'confirmed', count(*) filter (where d.confirmed_at is not null),
        'rolled_back', count(*) filter (where d.rolled_back_at is not null),
        'refused', count(*) filter (where d.refused_at is not null))
      from public.firmware_release_devices d where d.release_id = p_release.id))
$$;

create function device_api.owned_release(p_user_id uuid, p_release_id uuid)
returns public.firmware_releases language plpgsql as $$
declare
  v_release public.firmware_releases;
begin
  select * into v_release from public.firmware_releases
   where id = p_release_id and user_id = p_user_id for update;
  if not found then
    perform device_api.fail(404, 'release_not_found', 'You have no firmware release with this id.');
  end if;
  return v_release;
end $$;

-- The function has checked the signature and the stored object's bytes before this call.
create function device_api.create_release(p_user_id uuid, p_version text, p_channel text, p_size bigint,
                                          p_sha256 text, p_signature text, p_public_key text, p_key_id text,
                                          p_min_version text, p_rollout_percent integer, p_object_key text,
                                          p_max_per_hour integer)
returns jsonb language plpgsql as $$
declare
  v_release public.firmware_releases;
begin
  perform device_api.take_rate_limit('releases:change:' || p_user_id, p_max_per_hour, 3600, 'release changes');
  if p_min_version is not null and device_api.version_key(p_min_version) > device_api.version_key(p_version) then
    perform device_api.fail(400, 'invalid_request', 'min_version may not be newer than the release itself.');
  end if;
  insert into public.firmware_releases (user_id, version, channel, size, sha256, signature, public_key, key_id,
                                        min_version, rollout_percent, object_key)
  values (p_user_id, p_version, p_channel, p_size, p_sha256, p_signature, p_public_key, p_key_id,
          p_min_version, p_rollout_percent, p_object_key)
  on conflict (user_id, channel, version) do nothing
  returning * into v_release;
  if v_release.id is null then
    perform device_api.fail(409, 'release_exists', 'This channel already has a release of this version.');
  end if;
  return device_api.release_json(v_release);
end $$;

-- p_halted / p_rollout_percent null leave that setting as it is.
create function device_api.change_release(p_user_id uuid, p_release_id uuid, p_halted boolean,
                                          p_rollout_percent integer, p_max_per_hour integer)
returns jsonb language plpgsql as $$
declare
  v_release public.firmware_releases;
begin
  perform device_api.take_rate_limit('releases:change:' || p_user_id, p_max_per_hour, 3600, 'release changes');
  v_release := device_api.owned_release(p_user_id, p_release_id);
  update public.firmware_releases r set
      rollout_percent = coalesce(p_rollout_percent, r.rollout_percent),
      halted = coalesce(p_halted, r.halted),
      halted_at = case when p_halted is null then r.halted_at when p_halted then coalesce(r.halted_at, now()) end,
      halted_reason = case when p_halted is null then r.halted_reason when p_halted then coalesce(r.halted_reason, 'owner') end,
      resumed_at = case when p_halted = false and r.halted then now() else r.resumed_at end
   where id = p_release_id returning * into v_release;
  return device_api.release_json(v_release);
end $$;

create function device_api.list_releases(p_user_id uuid, p_max_per_hour integer)
returns jsonb language plpgsql as $$
begin
  perform device_api.take_rate_limit('releases:list:' || p_user_id, p_max_per_hour, 3600, 'release listings');
  return coalesce((select jsonb_agg(device_api.release_json(r) order by r.created_at desc, r.id)
                     from public.firmware_releases r where r.user_id = p_user_id), '[]'::jsonb);
end $$;

-- ---------------------------------------------------------------------------
-- What a heartbeat does for OTA: record the device's report against the release of
-- that version, halt a release whose rollbacks pass the threshold, then choose the
-- update to offer (if any).
-- ---------------------------------------------------------------------------

create function device_api.record_ota_report(p_device public.devices, p_ota_state text, p_ota_version text,
                                             p_ota_error text, p_min_attempts integer,
                                             p_max_rollback_percent integer)
returns void language plpgsql as $$
declare
  v_release public.firmware_releases;
  v_attempts bigint;
  v_rollbacks bigint;
begin
  if p_ota_state is null or p_ota_version is null or p_ota_state = 'idle' then
    return;
  end if;
  select * into v_release from public.firmware_releases
   where user_id = p_device.user_id and channel = p_device.firmware_channel and version = p_ota_version;
  if not found then
    return;
  end if;
  -- Only a device that was offered the release counts in it.
  update public.firmware_release_devices d set
      downloaded_at  = case when p_ota_state in ('downloaded', 'pending_verify', 'confirmed', 'rolled_back')
                            then coalesce(d.downloaded_at, now()) else d.downloaded_at end,
      attempted_at   = case when p_ota_state in ('pending_verify', 'confirmed', 'rolled_back')
                            then coalesce(d.attempted_at, now()) else d.attempted_at end,
      confirmed_at   = case when p_ota_state = 'confirmed' then coalesce(d.confirmed_at, now()) else d.confirmed_at end,
      rolled_back_at = case when p_ota_state = 'rolled_back' then coalesce(d.rolled_back_at, now()) else d.rolled_back_at end,
      refused_at     = case when p_ota_state = 'refused' then coalesce(d.refused_at, now()) else d.refused_at end,
      last_error     = coalesce(p_ota_error, d.last_error)
   where d.release_id = v_release.id and d.device_id = p_device.id;
  if not found then
    return;
  end if;

  if p_ota_state = 'rolled_back' and not v_release.halted then
    select count(*) filter (where coalesce(d.rolled_back_at, d.attempted_at) > coalesce(v_release.resumed_at, '-infinity')),
           count(*) filter (where d.rolled_back_at > coalesce(v_release.resumed_at, '-infinity'))
      into v_attempts, v_rollbacks
      from public.firmware_release_devices d where d.release_id = v_release.id;
    if v_attempts >= p_min_attempts and v_rollbacks * 100 > p_max_rollback_percent * v_attempts then
      update public.firmware_releases set halted = true, halted_at = now(), halted_reason = 'rollbacks'
       where id = v_release.id and not halted;
    end if;
  end if;
end $$;

-- The newest release of the device's owner and channel that the device is due for.
-- Marks it offered (once per device).
create function device_api.offer_update(p_device public.devices, p_running_version text)
returns public.firmware_releases language plpgsql as $$
declare
  v_release public.firmware_releases;
  v_running integer[] := device_api.version_key(p_running_version);
begin
  if v_running is null then
    return null;
  end if;
  select r.* into v_release from public.firmware_releases r
   where r.user_id = p_device.user_id and r.channel = p_device.firmware_channel
     and not r.halted
     and device_api.rollout_bucket(p_device.id) < r.rollout_percent
     and device_api.version_key(r.version) > v_running
     and (r.min_version is null or v_running >= device_api.version_key(r.min_version))
     and not exists (select 1 from public.firmware_release_devices d
                      where d.release_id = r.id and d.device_id = p_device.id
                        and (d.rolled_back_at is not null or d.refused_at is not null))
   order by device_api.version_key(r.version) desc
   limit 1;
  if v_release.id is null then
    return null;
  end if;
  insert into public.firmware_release_devices (release_id, device_id)
  values (v_release.id, p_device.id) on conflict (release_id, device_id) do nothing;
  return v_release;
end $$;

-- ---------------------------------------------------------------------------
-- heartbeat, version 2: as before, plus the OTA report in and the offer out.
-- ---------------------------------------------------------------------------

drop function device_api.heartbeat(text,text,bigint,integer,bigint,integer,text,bigint,integer,boolean,integer,integer);

create function device_api.heartbeat(p_token_hash text, p_firmware_version text, p_free_bytes bigint,
                                     p_queue_depth integer, p_dropped bigint, p_quarantined integer,
                                     p_last_error text, p_uptime_s bigint, p_rssi_dbm integer,
                                     p_clock_synced boolean, p_max_per_hour integer,
                                     p_token_max_age_seconds integer,
                                     p_ota_state text, p_ota_version text, p_ota_error text,
                                     p_ota_min_attempts integer, p_ota_max_rollback_percent integer)
returns table(paused boolean, capture_interval_s integer, rotate_token boolean,
              update_version text, update_size bigint, update_sha256 text, update_signature text,
              update_key_id text, update_min_version text, update_object_key text)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
  v_offer public.firmware_releases;
begin
  perform device_api.take_rate_limit('heartbeat:device:' || v_device.id, p_max_per_hour, 3600, 'heartbeats');
  insert into public.device_status as s (device_id, reported_at, firmware_version, free_bytes, queue_depth,
                                         dropped, quarantined, last_error, uptime_s, rssi_dbm, clock_synced,
                                         ota_state, ota_version, ota_error)
  values (v_device.id, now(), p_firmware_version, p_free_bytes, p_queue_depth, p_dropped, p_quarantined,
          p_last_error, p_uptime_s, p_rssi_dbm, p_clock_synced, p_ota_state, p_ota_version, p_ota_error)
  on conflict (device_id) do update
    set reported_at = excluded.reported_at, firmware_version = excluded.firmware_version,
        free_bytes = excluded.free_bytes, queue_depth = excluded.queue_depth, dropped = excluded.dropped,
        quarantined = excluded.quarantined, last_error = excluded.last_error, uptime_s = excluded.uptime_s,
        rssi_dbm = excluded.rssi_dbm, clock_synced = excluded.clock_synced,
        ota_state = excluded.ota_state, ota_version = excluded.ota_version, ota_error = excluded.ota_error;
  update public.devices set firmware_version = p_firmware_version
   where id = v_device.id and firmware_version is distinct from p_firmware_version;
  perform device_api.record_ota_report(v_device, p_ota_state, p_ota_version, p_ota_error,
                                       p_ota_min_attempts, p_ota_max_rollback_percent);
  v_offer := device_api.offer_update(v_device, p_firmware_version);
  return query select v_device.paused, v_device.capture_interval_s,
    coalesce(v_device.token_issued_at < now() - make_interval(secs => p_token_max_age_seconds), false),
    v_offer.version, v_offer.size, v_offer.sha256, v_offer.signature, v_offer.key_id, v_offer.min_version, v_offer.object_key;
end $$;

