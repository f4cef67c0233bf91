-- Device lifecycle: the owner lists, renames, revokes and configures devices (privacy
-- pause, capture interval); a device reports its status (heartbeat) and rotates its
-- token. Every route is one call to a function in schema device_api, as before.

-- ---------------------------------------------------------------------------
-- Columns and tables
-- ---------------------------------------------------------------------------

alter table public.devices
  add column paused              boolean not null default false,
  -- null: the camera keeps the interval it was built with
  add column capture_interval_s  integer check (capture_interval_s between 5 and 3600),
  add column settings_updated_at timestamptz,
  -- when the current token was issued (kept by devices_token_issued below)
  add column token_issued_at     timestamptz,
  -- a token issued by /devices/rotate and not used yet: the current one keeps working
  -- until this one is first presented (an answer lost on the way bricks nothing)
  add column pending_token_hash  text unique,
  add constraint pending_token_differs check (pending_token_hash is null or pending_token_hash <> device_token_hash);

update public.devices set token_issued_at = activated_at where device_token_hash is not null;

-- The last status each device reported (POST /devices/heartbeat).
create table public.device_status (
  device_id        uuid primary key references public.devices (id) on delete cascade,
  reported_at      timestamptz not null default now(),
  firmware_version text not null check (char_length(firmware_version) between 1 and 32),
  free_bytes       bigint not null check (free_bytes >= 0),
  queue_depth      integer not null check (queue_depth >= 0),
  dropped          bigint not null check (dropped >= 0),
  quarantined      integer not null check (quarantined >= 0),
  last_error       text check (char_length(last_error) <= 200),
  uptime_s         bigint not null check (uptime_s >= 0),
  rssi_dbm         smallint check (rssi_dbm between -127 and 0),
  clock_synced     boolean not null
);

-- Hashes of tokens replaced by a rotation: presenting one is answered `token_rotated`
-- rather than `invalid_token`, so a camera (and its owner) can tell what happened.
create table public.device_retired_tokens (
  token_hash  text primary key,
  device_id   uuid not null references public.devices (id) on delete cascade,
  retired_at  timestamptz not null default now()
);
create index device_retired_tokens_device_idx on public.device_retired_tokens (device_id);

-- ---------------------------------------------------------------------------
-- Row level security and grants. Hosted projects grant nothing by default on new
-- tables and columns; the web app (authenticated) reads its own devices' settings and
-- status, never a token hash (pending or retired).
-- ---------------------------------------------------------------------------

alter table public.device_status enable row level security;
alter table public.device_retired_tokens enable row level security;
revoke all on public.device_status, public.device_retired_tokens from anon, authenticated;

grant select (paused, capture_interval_s, settings_updated_at, token_issued_at)
  on public.devices to authenticated;
grant select on public.device_status to authenticated;

create policy "owners read their devices' status" on public.device_status
  for select to authenticated using (exists (
    select 1 from public.devices d
    where d.id = device_status.device_id and d.user_id = (select auth.uid())));

-- ---------------------------------------------------------------------------
-- Token issue time: a new token hash (activation, rotation) stamps token_issued_at; a
-- token replaced by anything but its pending successor drops that successor.
-- ---------------------------------------------------------------------------

create function device_api.devices_token_issued()
returns trigger language plpgsql as $$
begin
  if new.device_token_hash is distinct from old.device_token_hash then
    new.token_issued_at := now();
    if new.pending_token_hash is not distinct from old.pending_token_hash then
      new.pending_token_hash := null;
    end if;
  end if;
  return new;
end $$;

create trigger devices_token_issued before update of device_token_hash on public.devices
  for each row execute function device_api.devices_token_issued();

-- ---------------------------------------------------------------------------
-- authenticate, version 2: as before (401 invalid_token / token_revoked, marks the
-- device seen), plus rotation. A pending token's first use makes it the device's token
-- and retires the old one; a retired token is refused with token_rotated.
-- ---------------------------------------------------------------------------

create or replace function device_api.authenticate(p_token_hash text)
returns public.devices language plpgsql as $$
declare
  v_device public.devices;
  v_old_hash text;
begin
  select * into v_device from public.devices where device_token_hash = p_token_hash;
  if not found then
    -- The row lock orders concurrent first uses; a loser finds no pending row and
    -- reads the promoted one below.
    select id, device_token_hash into v_device.id, v_old_hash
      from public.devices where pending_token_hash = p_token_hash for update;
    if found then
      update public.devices set device_token_hash = p_token_hash, pending_token_hash = null
       where id = v_device.id returning * into v_device;
      insert into public.device_retired_tokens (token_hash, device_id)
        values (v_old_hash, v_device.id) on conflict (token_hash) do nothing;
    else
      select * into v_device from public.devices where device_token_hash = p_token_hash;
    end if;
  end if;
  if v_device.id is null then
    if exists (select 1 from public.device_retired_tokens where token_hash = p_token_hash) then
      perform device_api.fail(401, 'token_rotated',
        'This device token was replaced by a newer one (token rotation); use the new token.');
    end if;
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

-- ---------------------------------------------------------------------------
-- What the owner sees of a device: one JSON shape for every user route. No token
-- material. "today" is the current UTC day.
-- ---------------------------------------------------------------------------

create function device_api.device_json(p_device public.devices)
returns jsonb language sql stable as $$
  select jsonb_build_object(
    'id', p_device.id,
    'name', p_device.name,
    'created_at', p_device.created_at,
    'activated_at', p_device.activated_at,
    'last_seen_at', p_device.last_seen_at,
    'revoked_at', p_device.revoked_at,
    'firmware_version', p_device.firmware_version,
    'settings', jsonb_build_object('paused', p_device.paused,
                                   'capture_interval_s', p_device.capture_interval_s,
                                   'updated_at', p_device.settings_updated_at),
    'status', (select jsonb_build_object(
                 'reported_at', s.reported_at, 'firmware_version', s.firmware_version,
                 'free_bytes', s.free_bytes, 'queue_depth', s.queue_depth, 'dropped', s.dropped,
                 'quarantined', s.quarantined, 'last_error', s.last_error, 'uptime_s', s.uptime_s,
                 'rssi_dbm', s.rssi_dbm, 'clock_synced', s.clock_synced)
               from public.device_status s where s.device_id = p_device.id),
    'items', (select jsonb_build_object(
                'today', count(*) filter (where i.created_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc'),
                'total', count(*))
              from public.source_items i where i.device_id = p_device.id))
$$;

-- The caller's device, locked for the change, or 404: another user's device id and an
-- id that does not exist get the same answer.
create function device_api.owned_device(p_user_id uuid, p_device_id uuid)
returns public.devices language plpgsql as $$
declare
  v_device public.devices;
begin
  select * into v_device from public.devices
   where id = p_device_id and user_id = p_user_id for update;
  if not found then
    perform device_api.fail(404, 'device_not_found', 'You have no device with this id.');
  end if;
  return v_device;
end $$;

-- GET /devices
create function device_api.list_devices(p_user_id uuid, p_max_per_hour integer)
returns jsonb language plpgsql as $$
begin
  perform device_api.take_rate_limit('devices:list:' || p_user_id, p_max_per_hour, 3600, 'device listings');
  return coalesce((select jsonb_agg(device_api.device_json(d) order by d.created_at, d.id)
                     from public.devices d where d.user_id = p_user_id), '[]'::jsonb);
end $$;

-- POST /devices/<id>/rename
create function device_api.rename_device(p_user_id uuid, p_device_id uuid, p_name text,
                                         p_max_per_hour integer)
returns jsonb language plpgsql as $$
declare
  v_device public.devices;
begin
  perform device_api.take_rate_limit('devices:change:' || p_user_id, p_max_per_hour, 3600, 'device changes');
  perform device_api.owned_device(p_user_id, p_device_id);
  update public.devices set name = p_name where id = p_device_id returning * into v_device;
  return device_api.device_json(v_device);
end $$;

-- POST /devices/<id>/revoke. Idempotent: a second revoke keeps the first time. The
-- device's next request (any route, any token it holds) is refused with token_revoked.
create function device_api.revoke_device(p_user_id uuid, p_device_id uuid, p_max_per_hour integer)
returns jsonb language plpgsql as $$
declare
  v_device public.devices;
begin
  perform device_api.take_rate_limit('devices:change:' || p_user_id, p_max_per_hour, 3600, 'device changes');
  perform device_api.owned_device(p_user_id, p_device_id);
  update public.devices set revoked_at = coalesce(revoked_at, now()), pending_token_hash = null
   where id = p_device_id returning * into v_device;
  return device_api.device_json(v_device);
end $$;

-- POST /devices/<id>/settings: p_paused null leaves pause as it is; p_set_interval
-- says whether p_capture_interval_s (null: the camera's own) is to be stored.
create function device_api.update_device_settings(p_user_id uuid, p_device_id uuid, p_paused boolean,
                                                  p_set_interval boolean, p_capture_interval_s integer,
                                                  p_max_per_hour integer)
returns jsonb language plpgsql as $$
declare
  v_device public.devices;
begin
  perform device_api.take_rate_limit('devices:change:' || p_user_id, p_max_per_hour, 3600, 'device changes');
  v_device := device_api.owned_device(p_user_id, p_device_id);
  if v_device.revoked_at is not null then
    perform device_api.fail(409, 'device_revoked', 'This device has been revoked; its settings can no longer change.');
  end if;
  update public.devices
     set paused = coalesce(p_paused, paused),
         capture_interval_s = case when p_set_interval then p_capture_interval_s else capture_interval_s end,
         settings_updated_at = now()
   where id = p_device_id returning * into v_device;
  return device_api.device_json(v_device);
end $$;

-- POST /devices/rotate: stores the new token's hash as pending. Rotating again before
-- the pending token was used replaces it (its answer was evidently lost).
create function device_api.rotate_token(p_token_hash text, p_new_token_hash text, p_max_per_hour integer)
returns table (device_id uuid) language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
begin
  perform device_api.take_rate_limit('rotate:device:' || v_device.id, p_max_per_hour, 3600, 'token rotations');
  update public.devices set pending_token_hash = p_new_token_hash where id = v_device.id;
  return query select v_device.id;
end $$;

-- POST /devices/heartbeat: stores the status, answers the owner's settings and whether
-- the token is old enough to rotate.
create function device_api.heartbeat(p_token_hash text, p_firmware_version text, p_free_bytes bigint,
                                     p_queue_depth integer, p_dropped bigint, p_quarantined integer,
                                     p_last_error text, p_uptime_s bigint, p_rssi_dbm integer,
                                     p_clock_synced boolean, p_max_per_hour integer,
                                     p_token_max_age_seconds integer)
returns table (paused boolean, capture_interval_s integer, rotate_token boolean)
language plpgsql as $$
declare
  v_device public.devices := device_api.authenticate(p_token_hash);
begin
  perform device_api.take_rate_limit('heartbeat:device:' || v_device.id, p_max_per_hour, 3600, 'heartbeats');
  insert into public.device_status as s (device_id, reported_at, firmware_version, free_bytes, queue_depth,
                                         dropped, quarantined, last_error, uptime_s, rssi_dbm, clock_synced)
  values (v_device.id, now(), p_firmware_version, p_free_bytes, p_queue_depth, p_dropped, p_quarantined,
          p_last_error, p_uptime_s, p_rssi_dbm, p_clock_synced)
  on conflict (device_id) do update
    set reported_at = excluded.reported_at, firmware_version = excluded.firmware_version,
        free_bytes = excluded.free_bytes, queue_depth = excluded.queue_depth, dropped = excluded.dropped,
        quarantined = excluded.quarantined, last_error = excluded.last_error, uptime_s = excluded.uptime_s,
        rssi_dbm = excluded.rssi_dbm, clock_synced = excluded.clock_synced;
  update public.devices set firmware_version = p_firmware_version
   where id = v_device.id and firmware_version is distinct from p_firmware_version;
  return query select v_device.paused, v_device.capture_interval_s,
    coalesce(v_device.token_issued_at < now() - make_interval(secs => p_token_max_age_seconds), false);
end $$;

-- New functions in a schema are executable by PUBLIC unless revoked.
revoke all on all functions in schema device_api from public;
