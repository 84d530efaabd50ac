#include "tokenmeter/model/cleanup_command.h"

#include <random>

#include "tokenmeter/base/varint.h"

namespace tokenmeter {
namespace {

constexpr uint8_t kCleanupKind = 1;

void PutTextTo(std::string& out, std::string_view s) {
  char buf[kMaxVarint];
  out.append(buf, PutVarint(buf, s.size()) - buf);
  out.append(s);
}

}  // namespace

void EncodeCleanupCommand(const CleanupCommand& c, std::string& out) {
  out.push_back(kCommandRecordTag);
  out.push_back(static_cast<char>(kCleanupKind));
  PutTextTo(out, c.id);
  PutTextTo(out, c.workspace);
  out.push_back(static_cast<char>(c.mode));
  out.push_back(static_cast<char>(c.scope));
  PutTextTo(out, c.requested_by);
  char buf[kMaxVarint];
  out.append(buf, PutVarint(buf, c.key_ids.size()) - buf);
  for (const std::string& k : c.key_ids) PutTextTo(out, k);
  out.append(buf, PutSigned(buf, c.issued_ms) - buf);
}

std::optional<CleanupCommand> DecodeCleanupCommand(std::string_view value) {
  if (!IsCommandRecord(value)) return std::nullopt;
  VarintReader r(value.substr(1));
  if (r.Byte() != kCleanupKind) return std::nullopt;
  CleanupCommand c;
  c.id = r.Text();
  c.workspace = r.Text();
  const uint8_t mode = r.Byte();
  const uint8_t scope = r.Byte();
  c.requested_by = r.Text();
  const uint64_t keys = r.Varint();
  if (!r.ok() || keys > value.size()) return std::nullopt;
  for (uint64_t i = 0; i < keys && r.ok(); ++i) c.key_ids.emplace_back(r.Text());
  c.issued_ms = r.Signed();
  if (!r.ok() || !r.done()) return std::nullopt;
  if (mode != static_cast<uint8_t>(DataMode::kTest) && mode != static_cast<uint8_t>(DataMode::kDemo)) return std::nullopt;
  if (scope > static_cast<uint8_t>(CleanupScope::kMine)) return std::nullopt;
  c.mode = static_cast<DataMode>(mode);
  c.scope = static_cast<CleanupScope>(scope);
  if (c.id.empty() || c.workspace.empty()) return std::nullopt;
  if (c.scope == CleanupScope::kWorkspace && !c.key_ids.empty()) return std::nullopt;
  return c;
}

std::string NewCleanupId() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) | rd();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "cl_";
  for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(v >> shift) & 0xf]);
  return id;
}

}  // namespace tokenmeter
