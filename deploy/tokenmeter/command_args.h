// The options every long-running subcommand takes: --config FILE, --port-file FILE,
// --help. Parse() prints usage or errors itself.
#ifndef TOKENMETER_DEPLOY_COMMAND_ARGS_H_
#define TOKENMETER_DEPLOY_COMMAND_ARGS_H_

#include <optional>
#include <string>
#include <vector>

#include "config_file.h"
#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/status.h"

namespace tokenmeter {

struct CommandArgs {
  std::string config_path;
  std::string port_file;

  // Returns the exit code when the command should end now (--help: 0; bad or missing
  // options: 2), or nullopt to run.
  std::optional<int> Parse(const std::vector<std::string>& args, const char* command,
                           const char* usage);
  // Writes the bound port to --port-file, if given.
  void WritePort(uint16_t port) const;
};

// Logs a startup failure for `component` and returns the exit code 1.
int StartupFailed(const char* component, const Status& s);

// What every long-running command starts with, in order: its options parsed, the shutdown
// signals blocked (before any thread starts, so WaitForShutdownSignal sees them), the
// config file loaded and its keys built. With `exit_code` set the command ends now with
// it (--help, a bad option, or a failure already logged).
struct CommandStart {
  std::optional<int> exit_code;
  CommandArgs args;
  AppConfig config;
  std::optional<KeyRing> keys;
};
CommandStart StartCommand(const std::vector<std::string>& args, const char* command,
                          const char* usage);

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_COMMAND_ARGS_H_
