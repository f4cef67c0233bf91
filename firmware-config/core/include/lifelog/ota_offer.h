#pragma once
// The OTA fields of the heartbeat, both ways: the `update` object of the answer read into
// an offer and where to download it, and the updater's report added to the request.
#include <cstddef>
#include <cstdint>

#include "json.h"
#include "ota_updater.h"

namespace lifelog {

struct OtaDownload {
  char host[128] = {};
  uint16_t port = 0;
  char path[1024] = {};  // a presigned URL's path and query
};

// False (offer untouched) unless every field is present, well-formed and fits.
bool parse_ota_offer(const cJSON* update, OtaOffer* offer, OtaDownload* download);
// Adds ota_state, ota_version and ota_error (null when empty) to a heartbeat request body.
bool add_ota_report(cJSON* body, const OtaReport& report);

}  // namespace lifelog
