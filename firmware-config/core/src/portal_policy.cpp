#include "lifelog/portal_policy.h"

#include <cstring>

#include "lifelog/config_limits.h"

namespace lifelog {

bool portal_should_open(const PortalTrigger& t) { return t.token != TokenState::Held || t.long_press; }

CodeDecision decide_pairing_code(TokenState token, const char* code) {
  if (!code || !code[0]) return CodeDecision::RefuseEmpty;
  size_t n = strlen(code);
  if (n > kMaxPairingCodeBytes) return CodeDecision::RefuseMalformed;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(code[i]);
    if (c < 0x21 || c > 0x7e) return CodeDecision::RefuseMalformed;
  }
  if (token == TokenState::Held) return CodeDecision::RefuseOwned;
  return CodeDecision::Accept;
}

const char* code_decision_message(CodeDecision d) {
  switch (d) {
    case CodeDecision::Accept: return "Pairing code saved; the camera activates when it is online.";
    case CodeDecision::RefuseEmpty: return "";
    case CodeDecision::RefuseMalformed: return "That is not a pairing code (letters like ABCD-EFGH).";
    case CodeDecision::RefuseOwned:
      return "This camera belongs to an account. Its owner must revoke it there first "
             "(lifelog-devices revoke); then a new pairing code is accepted here.";
  }
  return "";
}

bool portal_password_usable(const char* password) {
  if (!password) return false;
  size_t n = strlen(password);
  if (n < kMinPassphraseBytes || n > kMaxPassphraseBytes) return false;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(password[i]);
    if (c < 32 || c > 126) return false;
  }
  return true;
}

}  // namespace lifelog
