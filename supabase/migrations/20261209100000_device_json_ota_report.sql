-- The owner's device list shows the camera's last OTA report (state, the release it is about,
-- the reason of a refusal or rollback) as the heartbeat stored it.
create or replace function device_api.device_json(p_device public.devices)
 returns jsonb
 language sql
 stable
as $function$
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
                 'rssi_dbm', s.rssi_dbm, 'clock_synced', s.clock_synced,
                 'ota', jsonb_build_object('state', s.ota_state, 'version', s.ota_version, 'error', s.ota_error))
               from public.device_status s where s.device_id = p_device.id),
    'items', (select jsonb_build_object(
                'today', count(*) filter (where i.created_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc'),
                'total', count(*))
              from public.source_items i where i.device_id = p_device.id))
$function$;
revoke execute on function device_api.device_json(public.devices) from public;
