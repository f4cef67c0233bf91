#pragma once
// The device token across rotations and power cuts. NVS holds the working token under
// kDeviceTokenKey and, once the server has issued a successor, that one under kNextTokenKey,
// until a request with the successor has been answered. The server keeps the old token
// working until the successor's first use, so at every instant one of the two works:
//   rotate answered -> put next -> request with next answered -> put current = next -> erase next
// A cut before "put next" leaves the old token (still valid: the successor was never used);
// after it, the successor is tried first, and the old one again if the server never knew it.
#include <cstddef>
#include <cstdint>

#include "activation_key.h"
#include "kv_store.h"
#include "lifecycle_api.h"

namespace lifelog {

constexpr const char* kNextTokenKey = "token_next";

enum class TokenVerdict : uint8_t {
  TryAgain,  // active() now names the other token: repeat the request with it
  Dead,      // no token this device holds is accepted (revoked, or unknown to the server)
};

class TokenKeeper {
 public:
  explicit TokenKeeper(KeyValueStore& kv) : kv_(kv) {}

  // Reads both tokens from NVS. A successor equal to the current token is a promotion
  // whose last step was cut: it is tidied away.
  void begin();
  bool has_token() const { return active()[0] != '\0'; }
  // The token to send: the successor while one waits to be proven, else the current one.
  const char* active() const { return next_[0] ? next_ : current_; }
  bool proving() const { return next_[0] != '\0'; }
  // Changes whenever active() does (callers holding the pointer re-read it).
  uint32_t generation() const { return generation_; }

  // The server issued a successor: it goes to NVS before anything uses it. False when NVS
  // refused it; the current token stays in use (and valid on the server).
  bool adopt(const char* fresh);
  // A request with active() was answered by the server (any status but 401): a successor is
  // proven and becomes the current token. False when NVS refused (it stays "proving").
  bool confirm();
  // A request with active() got 401 with this error code.
  TokenVerdict refused(const char* code);
  // A token from a fresh activation replaces both.
  bool replace(const char* token);

 private:
  KeyValueStore& kv_;
  char current_[kMaxDeviceToken] = {};
  char next_[kMaxDeviceToken] = {};
  uint32_t generation_ = 0;
};

}  // namespace lifelog
