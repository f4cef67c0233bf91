#include "lifelog/http_image_source.h"

#include <cstdio>
#include <cstring>

namespace lifelog {

ImageSource::Result HttpImageSource::read(uint32_t offset, uint8_t* buf, size_t len, size_t* got, uint64_t* total) {
  *got = 0;
  if (len == 0 || len > kMaxResponseBody) return Result::Gone;
  char range[48];
  snprintf(range, sizeof range, "bytes=%lu-%lu", static_cast<unsigned long>(offset),
           static_cast<unsigned long>(offset + len - 1));
  const HttpHeader headers[] = {{"Range", range}};
  HttpRequest req;
  req.method = "GET";
  req.host = host_;
  req.port = port_;
  req.path = path_;
  req.headers = headers;
  req.header_count = 1;
  HttpError err = http_.exchange(req, response_);
  last_status_ = response_.status;
  if (err != HttpError::None) return Result::LinkDown;
  if (response_.status >= 500 || response_.status == 429) return Result::LinkDown;
  if (response_.status != 206 || response_.range_total < 0) return Result::Gone;
  if (response_.body_truncated || response_.body_len > len) return Result::LinkDown;
  memcpy(buf, response_.body, response_.body_len);
  *got = response_.body_len;
  *total = uint64_t(response_.range_total);
  return Result::Ok;
}

}  // namespace lifelog
