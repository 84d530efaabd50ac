#include "tokenmeter/base/log.h"

#include <unistd.h>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {

void Log(LogLevel level, std::string_view component, std::string_view event, LogFields fields) {
  std::string line = "{\"ts\":";
  AppendJsonString(line, FormatRfc3339(SystemClock().Now()));
  line += ",\"level\":";
  AppendJsonString(line, level == LogLevel::kInfo   ? "info"
                         : level == LogLevel::kWarn ? "warn"
                                                    : "error");
  line += ",\"component\":";
  AppendJsonString(line, component);
  line += ",\"event\":";
  AppendJsonString(line, event);
  for (const auto& [k, v] : fields) {
    line.push_back(',');
    AppendJsonString(line, k);
    line.push_back(':');
    AppendJsonString(line, v);
  }
  line += "}\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;  // nowhere to report a failed log write
}

}  // namespace tokenmeter
