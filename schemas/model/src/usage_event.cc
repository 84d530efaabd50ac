#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

std::string_view DataModeName(DataMode m) {
  switch (m) {
    case DataMode::kReal: return "real";
    case DataMode::kTest: return "test";
    case DataMode::kDemo: return "demo";
  }
  return "real";
}

std::optional<DataMode> ParseDataMode(std::string_view s) {
  if (s == "real") return DataMode::kReal;
  if (s == "test") return DataMode::kTest;
  if (s == "demo") return DataMode::kDemo;
  return std::nullopt;
}

std::string_view CallStatusName(CallStatus s) {
  switch (s) {
    case CallStatus::kSuccess: return "success";
    case CallStatus::kError: return "error";
    case CallStatus::kTimeout: return "timeout";
    case CallStatus::kCancelled: return "cancelled";
  }
  return "success";
}

std::optional<CallStatus> ParseCallStatus(std::string_view s) {
  if (s == "success") return CallStatus::kSuccess;
  if (s == "error") return CallStatus::kError;
  if (s == "timeout") return CallStatus::kTimeout;
  if (s == "cancelled") return CallStatus::kCancelled;
  return std::nullopt;
}

}  // namespace tokenmeter
