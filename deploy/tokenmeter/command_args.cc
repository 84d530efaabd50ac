#include "command_args.h"

#include <cstdio>
#include <fstream>

#include "signals.h"
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

CommandStart StartCommand(const std::vector<std::string>& args, const char* command,
                          const char* usage) {
  CommandStart start;
  start.exit_code = start.args.Parse(args, command, usage);
  if (start.exit_code) return start;
  BlockShutdownSignals();
  Result<AppConfig> config = LoadConfigFile(start.args.config_path);
  if (!config.ok()) {
    start.exit_code = StartupFailed(command, config.status());
    return start;
  }
  start.config = std::move(*config);
  Result<KeyRing> keys = KeyRing::Build(start.config.keys);
  if (!keys.ok()) {
    start.exit_code = StartupFailed(command, keys.status());
    return start;
  }
  start.keys.emplace(std::move(*keys));
  return start;
}

}  // namespace tokenmeter
