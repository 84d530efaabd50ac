#include "tokenmeter/model/usage_event.h"

#include "tokenmeter/base/enum_names.h"

namespace tokenmeter {

namespace {

constexpr EnumNames<DataMode, 3> kDataModes({"real", "test", "demo"});
constexpr EnumNames<CallStatus, 4> kCallStatuses({"success", "error", "timeout", "cancelled"});

}  // namespace

std::string_view DataModeName(DataMode m) { return kDataModes.Name(m); }
std::optional<DataMode> ParseDataMode(std::string_view s) { return kDataModes.Parse(s); }
std::string_view CallStatusName(CallStatus s) { return kCallStatuses.Name(s); }
std::optional<CallStatus> ParseCallStatus(std::string_view s) { return kCallStatuses.Parse(s); }

}  // namespace tokenmeter
