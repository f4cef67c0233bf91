#include "lifelog/token_rotation.h"

#include <cstring>

namespace lifelog {

void TokenKeeper::begin() {
  if (!kv_.get_str(kDeviceTokenKey, current_, sizeof(current_))) current_[0] = '\0';
  if (!kv_.get_str(kNextTokenKey, next_, sizeof(next_))) next_[0] = '\0';
  if (next_[0] && strcmp(next_, current_) == 0) {
    kv_.erase(kNextTokenKey);  // best effort: an equal pair is harmless either way
    next_[0] = '\0';
  }
  ++generation_;
}

bool TokenKeeper::adopt(const char* fresh) {
  if (!fresh || !fresh[0] || strlen(fresh) >= sizeof(next_) || strcmp(fresh, current_) == 0) return false;
  if (!kv_.put_str(kNextTokenKey, fresh)) return false;
  memcpy(next_, fresh, strlen(fresh) + 1);
  ++generation_;
  return true;
}

bool TokenKeeper::confirm() {
  if (!next_[0]) return true;
  if (!kv_.put_str(kDeviceTokenKey, next_)) return false;
  memcpy(current_, next_, sizeof(current_));
  next_[0] = '\0';
  ++generation_;
  kv_.erase(kNextTokenKey);  // if this is cut, begin() finds next == current and tidies
  return true;
}

TokenVerdict TokenKeeper::refused(const char* code) {
  // The successor is unknown to the server (its issue was replaced, or never committed):
  // the current token is still the server's, so fall back to it.
  if (next_[0] && current_[0] && code && strcmp(code, "invalid_token") == 0) {
    kv_.erase(kNextTokenKey);
    next_[0] = '\0';
    ++generation_;
    return TokenVerdict::TryAgain;
  }
  return TokenVerdict::Dead;
}

bool TokenKeeper::replace(const char* token) {
  if (!token || strlen(token) >= sizeof(current_) || !kv_.put_str(kDeviceTokenKey, token)) return false;
  memcpy(current_, token, strlen(token) + 1);
  kv_.erase(kNextTokenKey);
  next_[0] = '\0';
  ++generation_;
  return true;
}

}  // namespace lifelog
