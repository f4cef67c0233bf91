#include "tls_net.h"

#include <Arduino.h>

#include "lifelog_config.h"

TlsNetClient::TlsNetClient(const Options& options) : options_(options) {
  if (!options_.use_tls) return;
#if defined(LIFELOG_DEV_INSECURE_TLS)
  // Development only (rendered with dev_insecure_tls): no certificate check at all.
  secure_.setInsecure();
#else
  secure_.setCACert(options_.root_ca_pem);
#endif
  secure_.setHandshakeTimeout((options_.timeout_ms + 999) / 1000);  // seconds
}

bool TlsNetClient::connect(const char* host, uint16_t port) {
  close();
  if (options_.use_tls && ESP.getFreeHeap() < options_.min_free_heap) return false;  // retry later
  int ok = options_.use_tls ? secure_.connect(host, port, int32_t(options_.timeout_ms))
                            : plain_.connect(host, port, int32_t(options_.timeout_ms));
  if (!ok) close();
  return ok != 0;
}

int32_t TlsNetClient::write(const uint8_t* data, size_t len) {
  uint32_t start = millis();
  for (;;) {
    size_t n = options_.use_tls ? secure_.write(data, len) : plain_.write(data, len);
    if (n > 0) return int32_t(n);
    if (!connected() || millis() - start >= options_.timeout_ms) return -1;
    delay(2);
  }
}

int32_t TlsNetClient::read(uint8_t* buf, size_t len) {
  uint32_t start = millis();
  for (;;) {
    int available = options_.use_tls ? secure_.available() : plain_.available();
    if (available > 0) {
      size_t want = size_t(available) < len ? size_t(available) : len;
      int n = options_.use_tls ? secure_.read(buf, want) : plain_.read(buf, want);
      return n > 0 ? int32_t(n) : -1;
    }
    if (!connected()) return 0;  // peer closed and nothing is left to read
    if (millis() - start >= options_.timeout_ms) return -1;
    delay(2);
  }
}

void TlsNetClient::close() {
  if (options_.use_tls) {
    secure_.stop();
  } else {
    plain_.stop();
  }
}

bool TlsNetClient::connected() { return options_.use_tls ? secure_.connected() != 0 : plain_.connected() != 0; }
