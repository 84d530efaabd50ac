// The subcommands of the tokenmeter binary. Each returns the process exit code.
#ifndef TOKENMETER_DEPLOY_COMMANDS_H_
#define TOKENMETER_DEPLOY_COMMANDS_H_

#include <string>
#include <vector>

namespace tokenmeter {

int RunEdge(const std::vector<std::string>& args);
int RunProcessor(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunKeys(const std::vector<std::string>& args);
int RunConfig(const std::vector<std::string>& args);     // config export
int RunWorkspace(const std::vector<std::string>& args);  // workspace create

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_COMMANDS_H_
