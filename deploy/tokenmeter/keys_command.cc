#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "tokenmeter/auth/api_key.h"

namespace tokenmeter {
namespace {

constexpr const char* kKeysUsage =
    "Usage: tokenmeter keys create --workspace W [--role ingest|owner|admin|member]\n"
    "                              [--env live|test] [--project P] [--environment E]\n"
    "\n"
    "Creates a random API key. The key is printed once, on the first line; it is not\n"
    "stored anywhere. The lines after it are the entry to add under `keys:` in the\n"
    "config file: only the key's SHA-256 hash is kept there.\n";

}  // namespace

int RunKeys(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kKeysUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "create") {
    std::fprintf(stderr, "tokenmeter keys: unknown subcommand \"%s\"\n%s", args[0].c_str(),
                 kKeysUsage);
    return 2;
  }
  std::string workspace, role = "ingest", env = "live", project, environment;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kKeysUsage, stdout);
      return 0;
    }
    if (i + 1 >= args.size()) {
      std::fprintf(stderr, "tokenmeter keys create: %s needs a value\n", a.c_str());
      return 2;
    }
    const std::string& v = args[++i];
    if (a == "--workspace") workspace = v;
    else if (a == "--role") role = v;
    else if (a == "--env") env = v;
    else if (a == "--project") project = v;
    else if (a == "--environment") environment = v;
    else {
      std::fprintf(stderr, "tokenmeter keys create: unknown option %s\n%s", a.c_str(), kKeysUsage);
      return 2;
    }
  }
  auto parsed_role = ParseRole(role);
  if (workspace.empty() || !parsed_role) {
    std::fputs("tokenmeter keys create: --workspace is required and --role must be "
               "ingest, owner, admin or member\n", stderr);
    return 2;
  }
  Result<NewKey> key = CreateApiKey(env, workspace, *parsed_role);
  if (!key.ok()) {
    std::fprintf(stderr, "tokenmeter keys create: %s\n", key.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", key->key.c_str());
  std::printf("# add under keys: in the config file (the key above is not stored)\n");
  std::printf("  - id: %s\n    prefix: %s\n    sha256: %s\n    workspace: %s\n    role: %s\n",
              key->record.id.c_str(), DisplayKey(key->key).c_str(), key->record.sha256.c_str(),
              workspace.c_str(), role.c_str());
  if (!project.empty()) std::printf("    project: %s\n", project.c_str());
  if (!environment.empty()) std::printf("    environment: %s\n", environment.c_str());
  return 0;
}

}  // namespace tokenmeter
