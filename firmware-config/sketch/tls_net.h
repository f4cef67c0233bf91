#pragma once
// lifelog::NetClient over one long-lived WiFiClientSecure (verified against the root CAs of the
// config: root_ca_pem may hold several concatenated PEM certificates, the API host's current
// root plus fallbacks, which `lifelog-devices ca` writes; mbedTLS parses them all into one trust
// list) or, for an http:// API used in local development, one plain WiFiClient. The objects live
// as long as the device; a broken connection is stop()ped and reopened, never replaced by a new
// client, so a TLS context is never leaked per request.
//
// The scheme is chosen once from the API base URL and applies to the storage host too: the
// core's UploadTarget carries host and port only, and an http:// API only exists on the local
// stack, whose storage is plain http as well.
#include <WiFiClient.h>
#include <WiFiClientSecure.h>

#include "lifelog_core.h"

class TlsNetClient : public lifelog::NetClient {
 public:
  struct Options {
    bool use_tls = true;
    const char* root_ca_pem = nullptr;  // must outlive the client (a flash constant)
    uint32_t connect_timeout_ms = 15000;  // connect and handshake
    uint32_t slice_ms = 500;              // one read/write wait; the core keeps the idle timeout
    // A handshake needs 25-45 KB in one piece of internal RAM: the largest free block
    // (ESP.getMaxAllocHeap), not the total free heap (ESP.getFreeHeap), decides.
    uint32_t min_free_block = 48 * 1024;
  };

  explicit TlsNetClient(const Options& options);
  bool connect(const char* host, uint16_t port) override;
  int32_t write(const uint8_t* data, size_t len) override;
  int32_t read(uint8_t* buf, size_t len) override;
  void close() override;
  void abort() override;
  bool connected() override;
  const char* last_error() override { return error_; }

 private:
  Options options_;
  WiFiClientSecure secure_;
  WiFiClient plain_;
  char error_[96] = {};
};
