// DECLARATIONS ONLY (ESP-IDF components/lwip/include/apps/esp_sntp.h); see README.md.
#pragma once
#include <sys/time.h>

typedef void (*sntp_sync_time_cb_t)(struct timeval* tv);
void sntp_set_time_sync_notification_cb(sntp_sync_time_cb_t callback);
