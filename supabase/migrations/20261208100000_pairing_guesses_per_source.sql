-- Wrong pairing codes are counted per source (a client address, hashed by the function):
-- a source takes a limited number of failures per window, whatever codes it tries, and its
-- wrong guesses count against a pairing's lifetime budget once only. So no one source can
-- lock codes it does not know; locking a pairing takes `p_max_failures` distinct sources
-- guessing within its first letters while it lives.

alter table public.device_pairing_codes
  add column failed_sources text[] not null default '{}';

comment on column public.device_pairing_codes.failed_guesses is
  'distinct sources whose wrong codes shared this pairing''s lookup prefix while it lived';

drop function device_api.activate(text, text, text, integer, integer, integer, text);
create function device_api.activate(p_code_hash text, p_lookup_prefix text, p_token_hash text, p_source text,
                                    p_max_failures integer, p_source_max integer, p_source_window_seconds integer,
                                    p_global_max integer, p_global_window_seconds integer,
                                    p_activation_key_hash text default null)
returns jsonb language plpgsql as $$
declare
  v_source_bucket text := 'activate:source:' || p_source;
  v_code public.device_pairing_codes;
  v_device public.devices;
  v_retrying boolean;
  v_retry integer;
  v_error jsonb;
begin
  -- The source's own limit first: a source past it learns nothing, right code or not.
  v_retry := device_api.rate_limited_for(v_source_bucket, p_source_max, p_source_window_seconds);
  if v_retry is not null then
    return jsonb_build_object('error', jsonb_build_object(
      'status', 429, 'code', 'rate_limited', 'retry_after', v_retry,
      'message', 'Too many failed activation attempts from your network; try again later.'));
  end if;
  v_retry := device_api.rate_limited_for('activate:failures', p_global_max, p_global_window_seconds);
  if v_retry is not null then
    return jsonb_build_object('error', jsonb_build_object(
      'status', 429, 'code', 'rate_limited', 'retry_after', v_retry,
      'message', 'Too many failed activation attempts right now; try again later.'));
  end if;

  select * into v_code from public.device_pairing_codes where code_hash = p_code_hash for update;
  if v_code.id is null then
    -- Wrong for every pairing it could have been meant for: each counts this source once.
    update public.device_pairing_codes
       set failed_guesses = failed_guesses + 1, failed_sources = failed_sources || p_source
     where lookup_prefix = p_lookup_prefix and used_at is null and expires_at > now()
       and failed_guesses < p_max_failures and not (p_source = any (failed_sources));
    perform device_api.record_hit(v_source_bucket, p_source_window_seconds);
    perform device_api.record_hit('activate:failures', p_global_window_seconds);
    return jsonb_build_object('error', jsonb_build_object('status', 404, 'code', 'pairing_code_invalid',
      'message', 'This pairing code does not exist. Check it and try again.'));
  end if;

  select * into v_device from public.devices where id = v_code.device_id;
  v_retrying := v_code.used_at is not null and v_code.expires_at > now()
                and v_code.activation_key_hash = p_activation_key_hash;
  if not coalesce(v_retrying, false) then
    if v_code.used_at is not null then
      v_error := jsonb_build_object('status', 409, 'code', 'pairing_code_used',
        'message', 'This pairing code has already been used. Pair the device again for a new one.');
    elsif v_code.expires_at <= now() then
      v_error := jsonb_build_object('status', 410, 'code', 'pairing_code_expired',
        'message', 'This pairing code has expired. Pair the device again for a new one.');
    elsif v_code.failed_guesses >= p_max_failures then
      v_error := jsonb_build_object('status', 410, 'code', 'pairing_code_locked',
        'message', 'This pairing code took too many wrong guesses and no longer works. Pair the device again.');
    end if;
    if v_error is not null then
      update public.device_pairing_codes set attempts = attempts + 1 where id = v_code.id;
      perform device_api.record_hit(v_source_bucket, p_source_window_seconds);
      perform device_api.record_hit('activate:failures', p_global_window_seconds);
      return jsonb_build_object('error', v_error);
    end if;
  end if;
  -- Checked before anything is written: a refused activation leaves the code unused.
  if v_device.revoked_at is not null then
    return jsonb_build_object('error', jsonb_build_object('status', 409, 'code', 'device_revoked',
      'message', 'The device for this pairing code has been removed.'));
  end if;

  if not coalesce(v_retrying, false) then
    update public.device_pairing_codes set used_at = now(), activation_key_hash = p_activation_key_hash
     where id = v_code.id;
  end if;
  update public.devices
     set device_token_hash = p_token_hash, activated_at = coalesce(activated_at, now()), last_seen_at = now()
   where id = v_code.device_id;
  return jsonb_build_object('device_id', v_code.device_id);
end $$;
revoke execute on function device_api.activate(text, text, text, text, integer, integer, integer, integer, integer, text)
  from public;
