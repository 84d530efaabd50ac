// One structured JSON line per notable event, on stderr:
//   {"ts":"...","level":"info","component":"edge","event":"listening","port":"8081"}
// Thread-safe (one write(2) per line). Never pass secrets or raw request bodies.
#ifndef TOKENMETER_BASE_LOG_H_
#define TOKENMETER_BASE_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tokenmeter {

enum class LogLevel { kInfo, kWarn, kError };

using LogFields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void Log(LogLevel level, std::string_view component, std::string_view event,
         LogFields fields = {});

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_LOG_H_
