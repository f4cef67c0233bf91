-- The owner's photo API (docs/photos-api.md) and retention per user.
--
-- Retention never deletes an object directly: it records what is gone (photo_removals,
-- and the derivative rows it drops) and queues the object keys in device_api.storage_deletions
-- in the same transaction; the worker deletes the objects and confirms
-- (processing.confirm_deleted). A crash in between leaves the keys queued for the next run.

create table public.retention_policies (
  user_id           uuid primary key references auth.users (id) on delete cascade,
  -- originals older than this are deleted; the preview and thumbnail stay
  originals_days    integer not null default 30 check (originals_days between 1 and 3650),
  -- hidden (dark, blurry, duplicate) photos not pinned are deleted this long after processing
  hidden_grace_days integer not null default 7 check (hidden_grace_days between 0 and 3650),
  -- when set, originals are deleted oldest first until the user's objects fit
  quota_bytes       bigint check (quota_bytes is null or quota_bytes > 0),
  updated_at        timestamptz not null default now()
);
alter table public.retention_policies enable row level security;
revoke all on public.retention_policies from anon, authenticated;
grant select on public.retention_policies to authenticated;
create policy "owners read their retention policy" on public.retention_policies
  for select to authenticated using (user_id = (select auth.uid()));

-- What retention took from an item: its original only, or the whole photo.
create table public.photo_removals (
  item_id             uuid primary key references public.source_items (id) on delete cascade,
  user_id             uuid not null references auth.users (id) on delete cascade,
  original_removed_at timestamptz not null,
  photo_removed_at    timestamptz,
  reason              text not null
);
create index photo_removals_user_idx on public.photo_removals (user_id);
alter table public.photo_removals enable row level security;
revoke all on public.photo_removals from anon, authenticated;
grant select on public.photo_removals to authenticated;
create policy "owners read their photo removals" on public.photo_removals
  for select to authenticated using (user_id = (select auth.uid()));

-- The caller's policy; a user without a row gets one with the defaults (the column defaults
-- are the only place they are written down).
create function device_api.retention_policy(p_user_id uuid)
returns jsonb language plpgsql as $$
declare
  v public.retention_policies;
begin
  insert into public.retention_policies (user_id) values (p_user_id) on conflict do nothing;
  select * into v from public.retention_policies where user_id = p_user_id;
  return jsonb_build_object('originals_days', v.originals_days, 'hidden_grace_days', v.hidden_grace_days,
                            'quota_bytes', v.quota_bytes);
end $$;

-- p_patch holds any of originals_days, hidden_grace_days, quota_bytes (null clears the quota).
create function device_api.set_retention_policy(p_user_id uuid, p_patch jsonb, p_max_per_hour integer)
returns jsonb language plpgsql as $$
begin
  perform device_api.take_rate_limit('retention:' || p_user_id, p_max_per_hour, 3600, 'retention changes');
  perform device_api.retention_policy(p_user_id);
  update public.retention_policies set
    originals_days = coalesce((p_patch ->> 'originals_days')::integer, originals_days),
    hidden_grace_days = coalesce((p_patch ->> 'hidden_grace_days')::integer, hidden_grace_days),
    quota_bytes = case when p_patch ? 'quota_bytes' then (p_patch ->> 'quota_bytes')::bigint else quota_bytes end,
    updated_at = now()
   where user_id = p_user_id;
  return device_api.retention_policy(p_user_id);
end $$;

-- One photo as the API shows it (without its URLs), with the keys the URLs are signed for.
-- A photo retention removed is not shown.
create function device_api.owner_photos(p_user_id uuid)
returns table (item_id uuid, device_id uuid, captured_at timestamptz, hidden boolean, photo jsonb,
               thumbnail_key text, preview_key text)
language sql stable as $$
  select i.id, i.device_id, i.captured_at, h.hidden,
         jsonb_build_object(
           'item_id', i.id, 'device_id', i.device_id, 'seq', i.device_seq, 'captured_at', i.captured_at,
           'dated_by', i.metadata ->> 'dated_by', 'size_bytes', i.size_bytes,
           'status', case i.status when 'processed' then 'processed' when 'failed' then 'failed' else 'pending' end,
           'width', d.width, 'height', d.height,
           'flags', jsonb_build_object('dark', coalesce(t.dark, false), 'blurry', coalesce(t.blurry, false),
                                       'duplicate', coalesce(t.duplicate, false)),
           'hidden', h.hidden, 'pinned', pin.item_id is not null, 'moment_id', t.moment_id,
           'original_kept', rm.item_id is null),
         d.thumbnail_key, d.preview_key
    from public.source_items i
    left join public.photo_derivatives d on d.item_id = i.id
    left join public.photo_triage t on t.item_id = i.id
    left join public.photo_pins pin on pin.item_id = i.id
    left join public.photo_removals rm on rm.item_id = i.id
    cross join lateral (select coalesce(t.dark or t.blurry or t.duplicate, false) and pin.item_id is null as hidden) h
   where i.user_id = p_user_id and i.item_type = 'photo' and rm.photo_removed_at is null
$$;

-- A page of the caller's photos in [p_from, p_to), after (p_after_at, p_after_id) when given,
-- by capture time then id. position is the row's exact capture time, for the next cursor.
create function device_api.list_photos(p_user_id uuid, p_device_id uuid, p_from timestamptz, p_to timestamptz,
  p_include_hidden boolean, p_limit integer, p_after_at timestamptz, p_after_id uuid, p_max_per_hour integer)
returns table (photo jsonb, thumbnail_key text, preview_key text, position_at text)
language plpgsql as $$
begin
  perform device_api.take_rate_limit('photos:list:' || p_user_id, p_max_per_hour, 3600, 'photo listings');
  if p_device_id is not null and not exists (select 1 from public.devices d where d.id = p_device_id and d.user_id = p_user_id) then
    perform device_api.fail(404, 'device_not_found', 'You have no device with this id.');
  end if;
  return query
    select p.photo, p.thumbnail_key, p.preview_key,
           to_char(p.captured_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
      from device_api.owner_photos(p_user_id) p
     where p.captured_at >= p_from and p.captured_at < p_to
       and (p_device_id is null or p.device_id = p_device_id)
       and (p_include_hidden or not p.hidden)
       and (p_after_at is null or (p.captured_at, p.item_id) > (p_after_at, p_after_id))
     order by p.captured_at, p.item_id
     limit p_limit;
end $$;

create function device_api.set_pin(p_user_id uuid, p_item_id uuid, p_pinned boolean, p_max_per_hour integer)
returns table (photo jsonb, thumbnail_key text, preview_key text)
language plpgsql as $$
begin
  perform device_api.take_rate_limit('photos:pin:' || p_user_id, p_max_per_hour, 3600, 'pin changes');
  if not exists (select 1 from device_api.owner_photos(p_user_id) p where p.item_id = p_item_id) then
    perform device_api.fail(404, 'photo_not_found', 'You have no photo with this id.');
  end if;
  if p_pinned then
    insert into public.photo_pins (item_id, user_id) values (p_item_id, p_user_id) on conflict do nothing;
  else
    delete from public.photo_pins where item_id = p_item_id;
  end if;
  return query select p.photo, p.thumbnail_key, p.preview_key
                 from device_api.owner_photos(p_user_id) p where p.item_id = p_item_id;
end $$;

revoke execute on function device_api.retention_policy(uuid), device_api.set_retention_policy(uuid, jsonb, integer),
  device_api.owner_photos(uuid), device_api.list_photos(uuid, uuid, timestamptz, timestamptz, boolean, integer, timestamptz, uuid, integer),
  device_api.set_pin(uuid, uuid, boolean, integer) from public;

-- ---------------------------------------------------------------------------
-- Retention at p_now (a parameter, so a test can run a simulated clock): per user,
--   1. hidden photos not pinned, processed more than hidden_grace_days ago: the whole photo;
--   2. originals captured more than originals_days ago that have their derivatives;
--   3. with a quota: more originals, oldest first, until originals + derivatives fit.
-- Each step handles at most p_limit items. Answers the queued keys (at most p_limit), which
-- the caller deletes and confirms with processing.confirm_deleted.
-- ---------------------------------------------------------------------------
create function processing.apply_retention(p_now timestamptz default now(), p_limit integer default 500)
returns table (object_key text)
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.retention_policies (user_id)
  select distinct i.user_id from public.source_items i
   where not exists (select 1 from public.retention_policies r where r.user_id = i.user_id)
  on conflict do nothing;

  with gone as (
    select i.id, i.user_id, i.storage_key, d.preview_key, d.thumbnail_key, rm.item_id is not null as original_gone
      from public.photo_triage t
      join public.photo_derivatives d on d.item_id = t.item_id
      join public.source_items i on i.id = t.item_id
      join public.retention_policies p on p.user_id = t.user_id
      left join public.photo_removals rm on rm.item_id = t.item_id
     where (t.dark or t.blurry or t.duplicate)
       and not exists (select 1 from public.photo_pins pin where pin.item_id = t.item_id)
       and d.processed_at <= p_now - make_interval(days => p.hidden_grace_days)
     order by d.processed_at
     limit p_limit
  ), queued as (
    insert into device_api.storage_deletions (object_key, reason)
    select k.key, 'retention: hidden photo past its grace'
      from gone g cross join lateral (values (g.preview_key), (g.thumbnail_key),
                                             (case when not g.original_gone then g.storage_key end)) k(key)
     where k.key is not null
    on conflict do nothing
  ), marked as (
    insert into public.photo_removals (item_id, user_id, original_removed_at, photo_removed_at, reason)
    select g.id, g.user_id, p_now, p_now, 'hidden' from gone g
    on conflict (item_id) do update set photo_removed_at = excluded.photo_removed_at, reason = 'hidden'
  )
  delete from public.photo_derivatives d using gone g where d.item_id = g.id;

  with old as (
    select i.id, i.user_id, i.storage_key
      from public.source_items i
      join public.photo_derivatives d on d.item_id = i.id
      join public.retention_policies p on p.user_id = i.user_id
     where i.captured_at <= p_now - make_interval(days => p.originals_days)
       and not exists (select 1 from public.photo_removals rm where rm.item_id = i.id)
     order by i.captured_at
     limit p_limit
  ), queued as (
    insert into device_api.storage_deletions (object_key, reason)
    select o.storage_key, 'retention: original past its window' from old o
    on conflict do nothing
  )
  insert into public.photo_removals (item_id, user_id, original_removed_at, reason)
  select o.id, o.user_id, p_now, 'original past its window' from old o;

  with usage as (
    select p.user_id, p.quota_bytes,
           coalesce((select sum(coalesce(i.size_bytes, 0)) from public.source_items i
                      where i.user_id = p.user_id
                        and not exists (select 1 from public.photo_removals rm where rm.item_id = i.id)), 0)
         + coalesce((select sum(d.preview_bytes + d.thumbnail_bytes) from public.photo_derivatives d
                      where d.user_id = p.user_id), 0) as used
      from public.retention_policies p where p.quota_bytes is not null
  ), candidates as (
    select i.id, i.user_id, i.storage_key, u.used - u.quota_bytes as excess,
           sum(coalesce(i.size_bytes, 0)) over (partition by i.user_id order by i.captured_at, i.id)
             - coalesce(i.size_bytes, 0) as freed_before
      from usage u
      join public.source_items i on i.user_id = u.user_id
      join public.photo_derivatives d on d.item_id = i.id
     where u.used > u.quota_bytes
       and not exists (select 1 from public.photo_removals rm where rm.item_id = i.id)
  ), old as (
    select c.* from candidates c where c.freed_before < c.excess order by c.freed_before limit p_limit
  ), queued as (
    insert into device_api.storage_deletions (object_key, reason)
    select o.storage_key, 'retention: storage quota' from old o
    on conflict do nothing
  )
  insert into public.photo_removals (item_id, user_id, original_removed_at, reason)
  select o.id, o.user_id, p_now, 'storage quota' from old o;

  return query select q.object_key from device_api.storage_deletions q order by q.queued_at, q.object_key limit p_limit;
end $$;

revoke all on function processing.apply_retention(timestamptz, integer) from public;
grant execute on function processing.apply_retention(timestamptz, integer) to service_role;
grant select on public.retention_policies, public.photo_removals, public.photo_pins to service_role;
