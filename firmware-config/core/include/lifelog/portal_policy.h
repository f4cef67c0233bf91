#pragma once
// When the setup portal may open and what it may change. The portal lets someone standing next
// to the camera type Wi-Fi networks and a pairing code; a pairing code decides which account
// receives every photo, so it must not be a way to take a camera that already belongs to someone.
#include <cstdint>

namespace lifelog {

enum class TokenState : uint8_t {
  None,     // never activated (or the token was erased)
  Held,     // a token is stored and the server has not refused it
  Refused,  // the server answered 401 to it: revoked by its owner, or unknown to the server
};

struct PortalTrigger {
  TokenState token = TokenState::None;
  bool long_press = false;  // the BOOT button held at power-on (a deliberate act at the device)
};

// Opens by itself only while the camera has no usable token; a camera that belongs to someone
// opens it only on a long press. A camera with no known Wi-Fi in reach but a token stays shut:
// it keeps capturing and retries Wi-Fi in the background.
bool portal_should_open(const PortalTrigger& t);

enum class CodeDecision : uint8_t {
  Accept,           // store the code; activation will use it
  RefuseEmpty,      // nothing typed
  RefuseMalformed,  // not a pairing code
  RefuseOwned,      // the camera holds a token its server still accepts
};

// A pairing code typed into the portal. It is accepted only when no working token would be
// replaced: the camera has none, or the server refused it (which happens when the owner revokes
// the camera in their account: that revocation is the owner's proof). A code never erases a
// token the server still accepts, whatever is typed.
CodeDecision decide_pairing_code(TokenState token, const char* code);
const char* code_decision_message(CodeDecision d);

// The portal's access point is WPA2 with a per-device password (8..63 printable ASCII, set by
// `render`/`nvs`). Without one the portal does not start: an open AP would carry Wi-Fi
// passwords in clear.
bool portal_password_usable(const char* password);

}  // namespace lifelog
