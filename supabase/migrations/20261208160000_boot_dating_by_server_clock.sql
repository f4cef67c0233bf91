-- A boot that never got NTP is dated by the server's clock: every device request may carry
-- the camera's boot id and its uptime when sent (X-Device-Boot, X-Device-Uptime-Ms), and the
-- first such request of a boot fixes when it began, to within the request's one-way delay.
-- A later NTP-synced photo of the same boot dates it better and takes over.

alter table public.device_boots
  add column dated_by text not null default 'ntp' check (dated_by in ('ntp', 'server_clock'));

-- Dates the unsynced photos of one boot from its row: those not dated yet and, with
-- `p_redate_server_clock`, those dated by the server's clock (the camera's clock now dates the boot).
create or replace function device_api.date_boot_photos(p_device_id uuid, p_boot_id bigint, p_redate_server_clock boolean)
returns void
language sql
as $$
  update public.source_items i
     set captured_at = b.started_at + (device_api.boot_clock(i.metadata)).uptime,
         metadata = i.metadata || jsonb_build_object(
           'device_captured_at', coalesce(i.metadata->'device_captured_at', to_jsonb(i.captured_at)),
           'dated_by', case b.dated_by when 'ntp' then 'boot_clock' else 'server_clock' end)
    from public.device_boots b
   where b.device_id = p_device_id and b.boot_id = p_boot_id
     and i.device_id = p_device_id and not i.ntp_synced
     and (device_api.boot_clock(i.metadata)).boot_id = p_boot_id
     and (not (i.metadata ? 'dated_by') or (p_redate_server_clock and i.metadata->>'dated_by' = 'server_clock'));
$$;
revoke execute on function device_api.date_boot_photos(uuid, bigint, boolean) from public;

-- Called after a device request succeeded, once per boot (the function remembers it for a
-- while). A boot already dated stays as it is.
create or replace function device_api.note_boot(p_token_hash text, p_boot_id bigint, p_uptime_ms bigint)
returns void
language plpgsql
as $$
declare
  v_device public.devices;
  v_started timestamptz;
begin
  if p_boot_id is null or p_boot_id < 1 or p_uptime_ms is null or p_uptime_ms < 0 then return; end if;
  v_device := device_api.authenticate(p_token_hash);
  insert into public.device_boots (device_id, boot_id, started_at, dated_by)
    values (v_device.id, p_boot_id, now() - make_interval(secs => p_uptime_ms / 1000.0), 'server_clock')
    on conflict do nothing
    returning started_at into v_started;
  if v_started is not null then
    perform device_api.date_boot_photos(v_device.id, p_boot_id, false);
  end if;
end $$;
revoke execute on function device_api.note_boot(text, bigint, bigint) from public;

create or replace function device_api.date_by_boot_clock()
returns trigger
language plpgsql
as $$
declare
  v_boot bigint;
  v_uptime interval;
  v_boot_row public.device_boots;
begin
  if new.device_id is null then return new; end if;
  select b.boot_id, b.uptime into v_boot, v_uptime from device_api.boot_clock(new.metadata) b;
  if v_boot is null then return new; end if;

  if new.ntp_synced then
    -- The camera's clock dates its boot; it replaces a date from the server's clock.
    insert into public.device_boots as d (device_id, boot_id, started_at, dated_by)
      values (new.device_id, v_boot, new.captured_at - v_uptime, 'ntp')
      on conflict (device_id, boot_id) do update
        set started_at = excluded.started_at, dated_by = 'ntp'
        where d.dated_by = 'server_clock'
      returning * into v_boot_row;
    if v_boot_row.device_id is not null then  -- first synced photo of this boot
      perform device_api.date_boot_photos(new.device_id, v_boot, true);
    end if;
  else
    select * into v_boot_row from public.device_boots where device_id = new.device_id and boot_id = v_boot;
    if v_boot_row.device_id is not null then
      new.metadata := new.metadata || jsonb_build_object('device_captured_at', new.captured_at,
        'dated_by', case v_boot_row.dated_by when 'ntp' then 'boot_clock' else 'server_clock' end);
      new.captured_at := v_boot_row.started_at + v_uptime;
    end if;
  end if;
  return new;
end $$;
revoke execute on function device_api.date_by_boot_clock() from public;
