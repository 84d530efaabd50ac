// OpsEndpoints: the operational endpoints every tokenmeter process answers on its port,
// GET or HEAD only:
//   /healthz  200 {"ok":true} while the process runs;
//   /readyz   200 {"ok":true,"ready":true,...} when it can do its work now, else 503 with
//             the reason (JsonError);
//   /metrics  the registry in Prometheus' text format.
// Each process says only what "ready" means for it and what to sample before a scrape.
// Immutable after construction; any thread.
#ifndef TOKENMETER_HTTP_OPS_ENDPOINTS_H_
#define TOKENMETER_HTTP_OPS_ENDPOINTS_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/http/http_server.h"

namespace prometheus {
class Registry;
}

namespace tokenmeter {

class OpsEndpoints {
 public:
  struct Unready {
    std::string reason;   // machine-readable, e.g. "disk_full"
    std::string message;  // for a person
  };
  struct Hooks {
    // Why the process cannot work now; nullopt (or unset) when it can.
    std::function<std::optional<Unready>()> unready;
    // Members appended to a ready answer, e.g. `,"assignedPartitions":3` (unset: none).
    std::function<std::string()> ready_members;
    // Called before each scrape, to refresh gauges read on demand (unset: nothing).
    std::function<void()> before_scrape;
  };
  OpsEndpoints(prometheus::Registry& registry, Hooks hooks) : registry_(registry), hooks_(std::move(hooks)) {}

  // Why /readyz would answer 503 now; nullopt when ready.
  std::optional<Unready> NotReady() const { return hooks_.unready ? hooks_.unready() : std::nullopt; }
  // True for /healthz, /readyz and /metrics (`path` without its query).
  static bool Serves(std::string_view path);
  // The answer for one of them; 405 (Allow: GET) for another method.
  HttpResponse Answer(std::string_view method, std::string_view path) const;

 private:
  prometheus::Registry& registry_;
  Hooks hooks_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_OPS_ENDPOINTS_H_
