#include "tls_net.h"

#include <Arduino.h>
#include <lwip/sockets.h>

#include <cstdio>

#include "lifelog_config.h"

TlsNetClient::TlsNetClient(const Options& options) : options_(options) {
  if (!options_.use_tls) return;
#if defined(LIFELOG_DEV_INSECURE_TLS)
  // Development only (rendered with dev_insecure_tls): no certificate check at all.
  secure_.setInsecure();
#else
  secure_.setCACert(options_.root_ca_pem);
#endif
  secure_.setHandshakeTimeout((options_.connect_timeout_ms + 999) / 1000);  // seconds
}

bool TlsNetClient::connect(const char* host, uint16_t port) {
  close();
  error_[0] = '\0';
  if (options_.use_tls && ESP.getMaxAllocHeap() < options_.min_free_block) {
    snprintf(error_, sizeof(error_), "not enough free memory for a TLS handshake (%u bytes in one block)",
             unsigned(ESP.getMaxAllocHeap()));
    return false;  // retried later
  }
  int ok = options_.use_tls ? secure_.connect(host, port, int32_t(options_.connect_timeout_ms))
                            : plain_.connect(host, port, int32_t(options_.connect_timeout_ms));
  if (!ok) {
    if (options_.use_tls) {
      // mbedtls_strerror() of the handshake's failure, e.g. "X509 - Certificate verification failed".
      char why[80] = {};
      int code = secure_.lastError(why, sizeof(why));
      snprintf(error_, sizeof(error_), "TLS to %s failed (%d): %s", host, code, why[0] ? why : "connect failed");
    } else {
      snprintf(error_, sizeof(error_), "cannot connect to %s:%u", host, unsigned(port));
    }
    close();
  }
  return ok != 0;
}

int32_t TlsNetClient::write(const uint8_t* data, size_t len) {
  // NetworkClient::write may accept fewer bytes than asked; 0 means nothing now (or a failure,
  // after which the client is no longer connected).
  size_t n = options_.use_tls ? secure_.write(data, len) : plain_.write(data, len);
  if (n > 0) return int32_t(n);
  if (!connected()) return -1;
  delay(options_.slice_ms > 20 ? 20 : options_.slice_ms);
  return kWouldBlock;
}

int32_t TlsNetClient::read(uint8_t* buf, size_t len) {
  uint32_t start = millis();
  for (;;) {
    int available = options_.use_tls ? secure_.available() : plain_.available();
    if (available > 0) {
      size_t want = size_t(available) < len ? size_t(available) : len;
      // NetworkClientSecure::read returns -1 when nothing is available: only read what is there.
      int n = options_.use_tls ? secure_.read(buf, want) : plain_.read(buf, want);
      return n > 0 ? int32_t(n) : -1;
    }
    if (!connected()) return 0;  // peer closed and nothing is left to read
    if (millis() - start >= options_.slice_ms) return kWouldBlock;
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

void TlsNetClient::abort() {
  // SO_LINGER {1, 0}: close() sends RST and drops what is queued (lwIP honours it when built
  // with LWIP_SO_LINGER; otherwise this is the same graceful close as stop()).
  linger hard = {1, 0};
  if (options_.use_tls) {
    secure_.setSocketOption(SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  } else {
    plain_.setSocketOption(SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  }
  close();
}

bool TlsNetClient::connected() { return options_.use_tls ? secure_.connected() != 0 : plain_.connected() != 0; }
