-- What a hosted Supabase database has before any project migration runs, as a project
-- created today has it. Run once by the local stack as `supabase_admin`, the superuser
-- embedded-postgres creates (as Supabase's own images do); everything after it, the CLI's
-- `db push`, the function and the tests, connects as `postgres`, which is not a superuser.
-- Never pushed to a real project (it is not in supabase/migrations).
--
-- Sources, supabase/postgres migrations/db/: init-scripts/00000000000000-initial-schema.sql
-- (API roles, authenticator, extensions), …-auth-schema.sql, …-storage-schema.sql,
-- migrate.sh (database owned by postgres), migrations/10000000000000_demote-postgres.sql,
-- 20220609081115_grant-supabase-auth-admin-and-supabase-storage-admin-to-postgres.sql,
-- 20221103090837_revoke_admin.sql, 20230201083204_grant_auth_roles_to_postgres.sql,
-- 20230529180330_alter_api_roles_for_inherit.sql. supabase/auth's migrations for auth.uid()
-- and auth.jwt(). supabase/storage migrations/tenant/ for storage.buckets and
-- storage.objects (0002, 0003, 0007, 0008, 0012–0014, 0016, 0018, 0025, 0038, 0046, 0049,
-- 0055). Since 2026-10-30 new projects grant new public tables to nobody.

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------
-- demote-postgres: postgres owns the project's objects but is not a superuser.
create role postgres login password 'postgres' nosuperuser createdb createrole replication bypassrls;
alter database postgres owner to postgres;              -- migrate.sh
grant all on database postgres to postgres;

-- initial-schema, then alter_api_roles_for_inherit (the API roles inherit).
create role anon nologin inherit;
create role authenticated nologin inherit;
create role service_role nologin inherit bypassrls;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- PostgREST and Storage log in as authenticator and SET ROLE to the caller's role;
-- revoke_admin took supabase_admin away from it.
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
-- grant_auth_roles_to_postgres: postgres may act as each API role (SET ROLE).
grant anon, authenticated, service_role to postgres;

-- The Auth and Storage services own their schemas; postgres is a member of both.
create role supabase_auth_admin login noinherit createrole;
create role supabase_storage_admin login noinherit createrole;
grant supabase_auth_admin, supabase_storage_admin to postgres;

-- ---------------------------------------------------------------------------
-- Extensions
-- ---------------------------------------------------------------------------
create schema extensions;
create extension "uuid-ossp" with schema extensions;
create extension pgcrypto with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to postgres;
alter role postgres set search_path to "$user", public, extensions;

-- ---------------------------------------------------------------------------
-- public: usage for the API roles, and no default privileges on new tables or
-- sequences for them (functions keep Postgres's own default: EXECUTE to PUBLIC).
-- ---------------------------------------------------------------------------
grant usage on schema public to postgres, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- auth: the part of Supabase Auth's schema projects reference (auth.users is a subset of
-- its columns, with the types Auth gives them).
-- ---------------------------------------------------------------------------
create schema auth authorization supabase_auth_admin;
grant usage on schema auth to postgres, anon, authenticated, service_role;

create table auth.users (
  instance_id uuid,
  id uuid not null primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  created_at timestamptz,
  updated_at timestamptz,
  phone text unique default null,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
create unique index users_email_partial_key on auth.users (email) where (is_sso_user = false);
alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
grant all on all tables in schema auth to postgres;    -- update-auth-permissions

create function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create function auth.email() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;

-- ---------------------------------------------------------------------------
-- storage: the Storage API's tables. Storage runs its queries as the caller's role, so
-- the API roles hold table privileges and RLS decides (0046).
-- ---------------------------------------------------------------------------
create schema storage authorization supabase_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin;

create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');

create table storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,                                           -- deprecated for owner_id (0018)
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,                         -- 0008
  avif_autodetection boolean default false,             -- 0012
  file_size_limit bigint default null,                  -- 0013, bytes since 0014
  allowed_mime_types text[] default null,               -- 0013
  owner_id text default null,                           -- 0018
  type storage.buckettype not null default 'STANDARD'   -- 0038
);
create unique index bname on storage.buckets using btree (name);

create table storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,                                       -- size, mimetype, eTag, … as Storage writes them
  path_tokens text[] generated always as (string_to_array(name, '/')) stored, -- 0003
  version text default null,                            -- 0016
  owner_id text default null,                           -- 0018
  user_metadata jsonb null                              -- 0025
);
create unique index bucketid_objname on storage.objects using btree (bucket_id, name);

alter table storage.buckets enable row level security;  -- 0007
alter table storage.objects enable row level security;
alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;
grant all on storage.buckets, storage.objects to postgres with grant option;              -- 0046, 0049
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;       -- 0046

-- 0055: rows are deleted through the Storage API, which sets storage.allow_delete_query.
create function storage.protect_delete() returns trigger language plpgsql as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using errcode = '42501';
  end if;
  return null;
end $$;
alter function storage.protect_delete() owner to supabase_storage_admin;
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();
