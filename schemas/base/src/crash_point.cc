#include "tokenmeter/base/crash_point.h"

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tokenmeter/base/log.h"

namespace tokenmeter {
namespace {

struct Armed {
  std::string name;
  long hit_at = 1;
  std::atomic<long> hits{0};
};

Armed* Load() {
  const char* env = std::getenv("TOKENMETER_CRASH_AT");
  if (env == nullptr || *env == '\0') return nullptr;
  auto* a = new Armed();  // lives for the process; a crash point ends it anyway
  std::string spec(env);
  size_t colon = spec.find(':');
  a->name = spec.substr(0, colon);
  if (colon != std::string::npos) a->hit_at = std::max(1L, std::strtol(spec.c_str() + colon + 1, nullptr, 10));
  return a;
}

}  // namespace

void CrashPoint(const char* name) {
  static Armed* const armed = Load();
  if (armed == nullptr || armed->name != name) return;
  long hit = armed->hits.fetch_add(1) + 1;
  if (hit != armed->hit_at) return;
  Log(LogLevel::kWarn, "crash_point", "killing", {{"point", name}, {"hit", std::to_string(hit)}});
  raise(SIGKILL);
}

}  // namespace tokenmeter
