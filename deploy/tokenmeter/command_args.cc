#include "command_args.h"

#include <cstdio>
#include <fstream>

#include "tokenmeter/base/log.h"

namespace tokenmeter {

std::optional<int> CommandArgs::Parse(const std::vector<std::string>& args, const char* command,
                                      const char* usage) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (i + 1 < args.size() && args[i] == "--config") {
      config_path = args[++i];
    } else if (i + 1 < args.size() && args[i] == "--port-file") {
      port_file = args[++i];
    } else {
      std::fprintf(stderr, "tokenmeter %s: bad option %s\n%s", command, args[i].c_str(), usage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  return std::nullopt;
}

void CommandArgs::WritePort(uint16_t port) const {
  if (port_file.empty()) return;
  // Written whole to a temporary name and renamed, so a reader never sees a partial file.
  std::string tmp = port_file + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), port_file.c_str());
}

int StartupFailed(const char* component, const Status& s) {
  Log(LogLevel::kError, component, "startup_failed", {{"error", s.ToString()}});
  return 1;
}

}  // namespace tokenmeter
