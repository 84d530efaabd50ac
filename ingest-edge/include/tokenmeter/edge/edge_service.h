// EdgeService: the ingest edge. For each request:
//   route -> authenticate -> plan limit (402 while paused) -> check media type ->
//   parse & validate -> rate limit -> publish to the bus -> answer (202 only after every
//   accepted event is durable; with AttachOutcomes, once the processor has applied them:
//   inserted, skipped, conflicts, warnings and the workspace's status after them).
// Also serves /healthz, /readyz and /metrics. Stateless apart from rate-limit buckets.
//
// Threads: Handle() runs on HTTP I/O threads; answers for ingest come from the bus's
// delivery thread. Everything it borrows (key ring, publisher, clock, registry) must
// outlive it.
#ifndef TOKENMETER_EDGE_EDGE_SERVICE_H_
#define TOKENMETER_EDGE_EDGE_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/bus/publisher.h"
#include "tokenmeter/bus/record_outcomes.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/http/ops_endpoints.h"
#include "tokenmeter/model/ingest_limits.h"
#include "tokenmeter/model/normalizer.h"
#include "tokenmeter/model/usage_event.h"
#include "tokenmeter/model/workspace_status.h"

namespace prometheus {
class Registry;
}

namespace tokenmeter {

struct WorkspaceConfig {
  // Workspace id: the bus record key and the owner of every event sent with its keys.
  std::string id;
  // Known project slugs. Empty: any slug is accepted as given.
  std::vector<std::string> projects;
  // Unknown slug: reject the event (true) or keep it unattributed with a warning (false).
  bool strict_projects = false;
  // Sustained ingest rate for the whole workspace, events per second. Default 5000.
  double events_per_second = 5000;
  // Burst for the whole workspace, events. Default 20000.
  double burst_events = 20000;
};

struct EdgeConfig {
  IngestLimits limits;
  std::vector<WorkspaceConfig> workspaces;
  // Default per-key rate (events/s) and burst (events), for keys that set none.
  double key_events_per_second = 2000;
  double key_burst_events = 10000;
  // Retry-After (seconds) sent with 503 when the bus cannot take events. Default 1.
  int unavailable_retry_after_s = 1;
  // When the 202 is sent (edge.answer_after): once the events are durable on the bus
  // (kDurable: the answer says "pending": N), or once the processor has applied them
  // (kApplied: inserted, skipped and conflicts exact; needs the processor in the same
  // process). Unset: applied in `serve`, durable in the distributed form.
  enum class AnswerAfter : uint8_t { kDurable, kApplied };
  std::optional<AnswerAfter> answer_after;
  // How long an applied answer waits for the processor, ms; events not applied by then are
  // answered as pending. Default 2000.
  int applied_wait_ms = 2000;

  Status Validate() const;
};

class EdgeService final : public HttpHandler {
 public:
  EdgeService(const EdgeConfig& config, const KeyRing& keys, const Normalizer& normalizer,
              Publisher& publisher, const Clock& clock, prometheus::Registry& registry);
  ~EdgeService() override;

  void Handle(HttpRequest request, Respond respond) override;

  // The members the HTTP server adds to its own error answers (HttpServerConfig::
  // error_members) on the edge's port: the status fields of an unknown workspace, so
  // refusals made before the key is read carry them too.
  static std::string ServerErrorMembers();
  // Lets /metrics report the server's in-flight requests and connections.
  void AttachServer(const HttpServer* server) { server_ = server; }
  // Answers ingest once the processor has applied the events (AnswerAfter::kApplied):
  // `outcomes` is where the processors' reports arrive; must outlive the edge. `following`
  // (optional) says whether they arrive yet: until it does, /readyz answers 503.
  void AttachOutcomes(RecordOutcomes* outcomes, std::function<bool()> following = {}) {
    outcomes_ = outcomes;
    outcomes_following_ = std::move(following);
  }
  // One more reason /readyz may answer 503 (serve: the processor's own), checked after
  // the edge's. Set before the server starts.
  void AttachReadiness(std::function<std::optional<OpsEndpoints::Unready>()> also) { also_unready_ = std::move(also); }
  // Where the known project slugs come from when settings are live (the settings log's
  // projects with the config file's): called once per ingest request; nullptr means none
  // are known (any slug is accepted). Unset: the config file's. Set before the server starts.
  using ProjectsOf =
      std::function<std::shared_ptr<const std::unordered_set<std::string>>(const std::string& workspace)>;
  void AttachProjects(ProjectsOf projects_of) { projects_of_ = std::move(projects_of); }
  // What the processor last said about a workspace (plan limit, budget flags). Any thread.
  void SetWorkspaceStatus(const std::string& workspace, const WorkspaceStatus& status);

  // Marks the edge as shutting down: /readyz answers 503 so balancers stop sending.
  void BeginShutdown() { shutting_down_ = true; }

  struct State;

 private:
  void HandleIngest(HttpRequest request, Respond respond);
  // DELETE /v1/ingest/demo-data | test-data?scope=workspace|mine: a cleanup command on
  // the bus, answered 202 once durable.
  void HandleCleanup(const HttpRequest& request, DataMode mode, Respond respond);

  std::unique_ptr<State> state_;
  const HttpServer* server_ = nullptr;
  RecordOutcomes* outcomes_ = nullptr;
  std::function<std::optional<OpsEndpoints::Unready>()> also_unready_;
  std::function<bool()> outcomes_following_;
  ProjectsOf projects_of_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_EDGE_SERVICE_H_
