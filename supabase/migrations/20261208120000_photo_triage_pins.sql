-- Triage as rows: the photo worker walks each device's photos in capture order and writes
-- their flags and moment here (scripts/worker/triage.ts holds the rule), in the same
-- transaction that records the derivatives. A near-duplicate is compared with the previous
-- *kept* photo, which a view's window functions cannot express. Pins are the owner's.
drop view public.photo_triage;

create table public.photo_triage (
  item_id     uuid primary key references public.photo_derivatives (item_id) on delete cascade,
  user_id     uuid not null references auth.users (id) on delete cascade,
  device_id   uuid references public.devices (id) on delete set null,
  captured_at timestamptz not null,
  dark        boolean not null,
  blurry      boolean not null,
  duplicate   boolean not null,
  -- the first photo of the moment
  moment_id   uuid not null,
  triaged_at  timestamptz not null default now()
);
create index photo_triage_device_captured_idx on public.photo_triage (device_id, captured_at, item_id);

alter table public.photo_triage enable row level security;
revoke all on public.photo_triage from anon, authenticated;
grant select on public.photo_triage to authenticated;
grant select, insert, update, delete on public.photo_triage to service_role;
create policy "owners read their photo triage" on public.photo_triage
  for select to authenticated using (user_id = (select auth.uid()));

-- A pinned photo is never hidden and never deleted by retention.
create table public.photo_pins (
  item_id   uuid primary key references public.source_items (id) on delete cascade,
  user_id   uuid not null references auth.users (id) on delete cascade,
  pinned_at timestamptz not null default now()
);
alter table public.photo_pins enable row level security;
revoke all on public.photo_pins from anon, authenticated;
grant select on public.photo_pins to authenticated;
create policy "owners read their pins" on public.photo_pins
  for select to authenticated using (user_id = (select auth.uid()));
