-- Performance (issue 10): the helpers every device request calls, in plpgsql.
--
-- PostgreSQL 17 parses and plans the body of a SQL-language function that it cannot
-- inline again in every transaction that calls it (its plans live in the caller's
-- expression state; PostgreSQL 18 caches them: commit 0dca5d6, "Change SQL-language
-- functions to use the plan cache"). These three are not inlinable (OUT
-- parameters; a WHERE clause; a void result) and run on every request: rate_limit_state
-- twice (device and account buckets). A plpgsql function keeps its statements' plans for
-- the session. Same names, arguments, results and behaviour.

create or replace function device_api.rate_limit_state(p_bucket text, p_window_seconds integer,
                                                       out hits integer, out retry_after integer)
language plpgsql stable as $$
begin
  select coalesce(sum(w.hits), 0)::integer,
         greatest(1, ceil(extract(epoch from min(w.window_start)) + p_window_seconds
                          + device_api.rate_limit_slot_seconds(p_window_seconds)
                          - extract(epoch from now())))::integer
    into hits, retry_after
    from device_api.rate_limit_windows w
   where w.bucket = p_bucket
     and w.window_start >= device_api.rate_limit_slot(p_window_seconds) - make_interval(secs => p_window_seconds);
end $$;

create or replace function device_api.commit_lazily()
returns void language plpgsql as $$
begin
  if current_setting('device_api.must_flush', true) is distinct from 'on'
     and coalesce(current_setting('device_api.synchronous_commit_was', true), '') = '' then
    perform set_config('device_api.synchronous_commit_was', current_setting('synchronous_commit'), true);
    perform set_config('synchronous_commit', 'off', true);
  end if;
end $$;

create or replace function device_api.commit_durably()
returns void language plpgsql as $$
begin
  perform set_config('device_api.must_flush', 'on', true);
  perform set_config('synchronous_commit', coalesce(nullif(current_setting('device_api.synchronous_commit_was', true), ''),
                                                    current_setting('synchronous_commit')), true);
end $$;

revoke all on function device_api.rate_limit_state(text, integer), device_api.commit_lazily(), device_api.commit_durably()
  from public;
