#pragma once
// lifelog::NetClient over one long-lived WiFiClientSecure (verified with the API host's root CA)
// or, for an http:// API used in local development, one plain WiFiClient. The objects live as
// long as the device; a broken connection is stop()ped and reopened, never replaced by a new
// client, so a TLS context is never leaked per request.
//
// The scheme is chosen once from the API base URL and applies to the storage host too: the
// core's UploadTarget carries host and port only, and an http:// API only exists on the local
// stack, whose storage is plain http as well. root_ca_pem may hold several concatenated PEM
// certificates when storage lives under a different CA than the API.
#include <WiFiClient.h>
#include <WiFiClientSecure.h>

#include "src/lifelog/net_client.h"

class TlsNetClient : public lifelog::NetClient {
 public:
  struct Options {
    bool use_tls = true;
    const char* root_ca_pem = nullptr;  // must outlive the client (a flash constant)
    uint32_t timeout_ms = 15000;        // connect, handshake and each read/write wait
    uint32_t min_free_heap = 48 * 1024; // a handshake needs 25-45 KB of internal heap
  };

  explicit TlsNetClient(const Options& options);
  bool connect(const char* host, uint16_t port) override;
  int32_t write(const uint8_t* data, size_t len) override;
  int32_t read(uint8_t* buf, size_t len) override;
  void close() override;
  bool connected() override;

 private:
  Options options_;
  WiFiClientSecure secure_;
  WiFiClient plain_;
};
