#pragma once
// A scripted HTTP server behind the NetClient interface. It reads requests the way a real
// server would (headers, then exactly Content-Length body bytes, hashed but not stored when
// large) and answers through a handler.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lifelog/net_client.h"
#include "lifelog/sha256.h"

struct FakeRequest {
  std::string host;  // the host the client connected to
  uint16_t port = 0;
  std::string method, path;
  std::map<std::string, std::string> headers;  // lower-case names
  uint64_t content_length = 0;
  std::string body;        // kept only for small (JSON) bodies
  std::string body_sha256;
};

struct FakeReply {
  std::string raw;          // full HTTP response bytes
  bool close_after = false; // server hangs up after sending
};

class FakeServer {
 public:
  std::function<FakeReply(const FakeRequest&)> handler;
  std::vector<FakeRequest> log;
  uint32_t connects = 0;
  uint32_t closes = 0;
  uint32_t refuse_connects = 0;       // fail the next n connects
  int64_t drop_after_body_bytes = -1; // one-shot: hang up mid-body after this many bytes
  size_t read_piece = 1 << 20;        // bytes handed out per read()
};

class FakeNet : public lifelog::NetClient {
 public:
  explicit FakeNet(FakeServer& server) : server_(server) {}
  bool connect(const char* host, uint16_t port) override;
  int32_t write(const uint8_t* data, size_t len) override;
  int32_t read(uint8_t* buf, size_t len) override;
  void close() override;
  bool connected() override { return connected_; }
  // Simulates the server closing an idle kept-alive connection.
  void server_hangs_up() { peer_closed_ = true; }
  // Told of every write's size (e.g. to move a test clock as a slow link would).
  std::function<void(size_t)> on_write;

 private:
  void reset_request();
  void finish_request();
  FakeServer& server_;
  bool connected_ = false;
  bool peer_closed_ = false;
  std::string host_;
  uint16_t port_ = 0;
  std::string head_;
  bool in_body_ = false;
  FakeRequest req_;
  uint64_t body_seen_ = 0;
  lifelog::Sha256 hash_;
  std::string out_;
  size_t out_pos_ = 0;
  bool close_after_out_ = false;
};

std::string http_reply(int status, const std::string& json_body, const std::string& extra_headers = "");
