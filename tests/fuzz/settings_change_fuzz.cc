// Fuzz target: a record of the settings log, as every edge and processor reads it. Any
// bytes must decode or be refused with a reason; a decoded change must survive a round
// trip through its encoding, and applying it to fresh settings must leave a valid key
// ring and an audit entry (applied, or refused with a reason).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tokenmeter/settings/live_settings.h"

using namespace tokenmeter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  Result<SettingsChange> change = DecodeSettingsChange(value);
  if (!change.ok()) {
    if (change.status().message().empty()) __builtin_trap();  // a refusal always says why
    return 0;
  }
  const std::string encoded = EncodeSettingsChange(*change);
  Result<SettingsChange> again = DecodeSettingsChange(encoded);
  if (!again.ok() || EncodeSettingsChange(*again) != encoded) {
    std::fprintf(stderr, "round trip differs:\n  %s\n  %s\n", encoded.c_str(),
                 again.ok() ? EncodeSettingsChange(*again).c_str() : again.status().message().c_str());
    __builtin_trap();
  }
  KeyRing ring;
  LiveSettings settings(LiveSettings::Declared{}, ring);
  settings.Apply(0, 0, *change);
  std::vector<AuditEntry> audit = settings.Audit(change->workspace, 10);
  if (audit.size() != 1) __builtin_trap();
  const bool applied = audit[0].refused.empty();
  // An applied key change is in the ring at once; fresh settings hold no key to rotate or revoke.
  const bool key_action = change->action == SettingsAction::kKeyCreate || change->action == SettingsAction::kKeyRotate ||
                          change->action == SettingsAction::kKeyRevoke;
  if (applied && key_action) {
    if (change->action != SettingsAction::kKeyCreate || ring.Find(change->key.id) == nullptr) __builtin_trap();
  }
  return 0;
}
