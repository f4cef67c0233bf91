-- Photos a camera sent before its clock was set carry `boot_id` and `uptime_ms` (time since
-- that boot) in their metadata. Once a photo of the same device and boot arrives with a synced
-- clock, `captured_at - uptime_ms` is when that boot began, and every photo of the boot can be
-- dated from it: those already ingested now, those still to come on insert. A boot that never
-- got a clock has nothing to date it by; its photos keep the camera's time and ntp_synced false.

create table public.device_boots (
  device_id  uuid not null references public.devices (id) on delete cascade,
  boot_id    bigint not null,
  started_at timestamptz not null,
  primary key (device_id, boot_id)
);
alter table public.device_boots enable row level security;
revoke all on public.device_boots from anon, authenticated, service_role;

create index source_items_unsynced_idx on public.source_items (device_id) where not ntp_synced;

-- The boot and uptime a device reported, or null when either is missing or not a plain
-- non-negative integer (metadata is the device's free-form JSON: never trust its shape).
create function device_api.boot_clock(p_metadata jsonb, out boot_id bigint, out uptime interval)
language sql immutable as $$
  select case when ok then (p_metadata->>'boot_id')::bigint end,
         case when ok then make_interval(secs => (p_metadata->>'uptime_ms')::numeric / 1000) end
  from (select jsonb_typeof(p_metadata->'boot_id') = 'number'
           and jsonb_typeof(p_metadata->'uptime_ms') = 'number'
           and (p_metadata->>'boot_id') ~ '^[0-9]{1,18}$'
           and (p_metadata->>'uptime_ms') ~ '^[0-9]{1,12}$' as ok) v  -- uptime under ~31 years
$$;

create function device_api.date_by_boot_clock()
returns trigger language plpgsql as $$
declare
  v_boot bigint;
  v_uptime interval;
  v_started timestamptz;
begin
  if new.device_id is null then return new; end if;
  select b.boot_id, b.uptime into v_boot, v_uptime from device_api.boot_clock(new.metadata) b;
  if v_boot is null then return new; end if;

  if new.ntp_synced then
    insert into public.device_boots (device_id, boot_id, started_at)
      values (new.device_id, v_boot, new.captured_at - v_uptime)
      on conflict do nothing
      returning started_at into v_started;
    if v_started is not null then  -- first synced photo of this boot: date what came before
      update public.source_items i
         set captured_at = v_started + (device_api.boot_clock(i.metadata)).uptime,
             metadata = i.metadata || jsonb_build_object('device_captured_at', i.captured_at,
                                                         'dated_by', 'boot_clock')
       where i.device_id = new.device_id and not i.ntp_synced
         and (device_api.boot_clock(i.metadata)).boot_id = v_boot and not (i.metadata ? 'dated_by');
    end if;
  else
    select started_at into v_started from public.device_boots
     where device_id = new.device_id and boot_id = v_boot;
    if v_started is not null then
      new.metadata := new.metadata || jsonb_build_object('device_captured_at', new.captured_at,
                                                         'dated_by', 'boot_clock');
      new.captured_at := v_started + v_uptime;
    end if;
  end if;
  return new;
end $$;

create trigger source_items_date_by_boot_clock before insert on public.source_items
  for each row execute function device_api.date_by_boot_clock();
