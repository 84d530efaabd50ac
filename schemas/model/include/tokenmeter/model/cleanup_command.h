// A cleanup command: "remove the demo (or test) rows of a workspace, or of one owner's
// keys", sent on the events topic as a record of its own, keyed by the workspace, so it
// is ordered with the workspace's events and applied once, like a batch, by the
// processor that owns them (DESIGN.md "Data lifecycle").
//
// Record layout: the tag byte 0xC2 (an event record starts with 0xC1 or '{'), a kind
// byte (1: cleanup), then id, workspace (texts), data mode (byte: 1 test, 2 demo), scope
// (byte: 0 workspace, 1 mine), the requesting key's id (text), the number of key ids
// (varint) and each (text; none for the workspace scope: every key), the time it was
// asked for (signed ms). Pure value code; any thread.
#ifndef TOKENMETER_MODEL_CLEANUP_COMMAND_H_
#define TOKENMETER_MODEL_CLEANUP_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

inline constexpr char kCommandRecordTag = '\xC2';

enum class CleanupScope : uint8_t { kWorkspace = 0, kMine = 1 };

struct CleanupCommand {
  std::string id;         // "cl_" + 16 hex digits
  std::string workspace;
  DataMode mode = DataMode::kDemo;  // kTest or kDemo: real rows are never removed
  CleanupScope scope = CleanupScope::kWorkspace;
  std::string requested_by;          // the key id that asked
  std::vector<std::string> key_ids;  // kMine: the keys whose rows go (the asker's owner's)
  int64_t issued_ms = 0;
  bool operator==(const CleanupCommand&) const = default;
};

inline bool IsCommandRecord(std::string_view value) { return !value.empty() && value[0] == kCommandRecordTag; }

void EncodeCleanupCommand(const CleanupCommand& c, std::string& out);
// nullopt when `value` is not such a record (cut short, trailing bytes, an unknown kind,
// mode or scope, a real-mode cleanup, key ids on a workspace scope).
std::optional<CleanupCommand> DecodeCleanupCommand(std::string_view value);

// A new cleanup id from the system's random source.
std::string NewCleanupId();

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_CLEANUP_COMMAND_H_
