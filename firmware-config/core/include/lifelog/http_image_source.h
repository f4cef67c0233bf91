#pragma once
// The offered firmware image over HTTP: each read is one GET with a Range header on the
// signed download URL, so a dropped link costs one chunk and a resume asks for the rest.
#include <cstddef>
#include <cstdint>

#include "http.h"
#include "ota_updater.h"

namespace lifelog {

class HttpImageSource : public ImageSource {
 public:
  // host and path stay owned by the caller (the heartbeat's offer) while reads go on.
  HttpImageSource(HttpConnection& http, const char* host, uint16_t port, const char* path)
      : http_(http), host_(host), port_(port), path_(path) {}
  // 206 with the bytes: Ok. A transport failure or a 5xx: LinkDown. 416 (the object is
  // shorter), 403/404 (the URL expired or the release is gone), a 200 without a range: Gone,
  // and a fresh offer brings a new URL.
  Result read(uint32_t offset, uint8_t* buf, size_t len, size_t* got, uint64_t* total) override;
  int last_status() const { return last_status_; }

 private:
  HttpConnection& http_;
  const char* host_;
  uint16_t port_;
  const char* path_;
  HttpResponse response_;
  int last_status_ = 0;
};

}  // namespace lifelog
