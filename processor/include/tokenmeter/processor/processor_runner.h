// ProcessorRunner: the processor as a running component, for the composition root
// (deploy/tokenmeter/, which gives it its bus). Owns the state store, price book, pipeline,
// the subscriber and dead-letter publisher it is given, the consume thread, and the HTTP handler: the query API and the alerts API (read keys from
// `keys`), /healthz, /readyz and /metrics. Publishes workspace statuses through the bus.
//
// Threads: Start() spawns the consume thread; Handle() runs on HTTP I/O threads; Stop()
// from the thread that owns the runner.
#ifndef TOKENMETER_PROCESSOR_PROCESSOR_RUNNER_H_
#define TOKENMETER_PROCESSOR_PROCESSOR_RUNNER_H_

#include <functional>
#include <span>
#include <memory>
#include <optional>
#include <utility>
#include <set>
#include <string>
#include <vector>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/bus/publisher.h"
#include "tokenmeter/bus/record_outcomes.h"
#include "tokenmeter/bus/subscriber.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/http/ops_endpoints.h"
#include "tokenmeter/model/ingest_limits.h"
#include "tokenmeter/model/outbox.h"
#include "tokenmeter/model/workspace_status.h"
#include "tokenmeter/processor/alerting_config.h"
#include "tokenmeter/processor/pricing_config.h"
#include "tokenmeter/processor/pricing_rules.h"
#include "tokenmeter/processor/retention_config.h"

namespace prometheus {
class Registry;
}

namespace tokenmeter {

struct ProcessorConfig {
  // RocksDB state directory (created if missing). Required.
  std::string state_dir;
  // Records per poll at most (each partition's share is one batch). Default 10000: under
  // a backlog, bigger batches share their rollup rows and their sync among more events;
  // with no backlog a poll takes what is there, so latency is not traded away.
  int max_batch = 10000;
  // How long one poll waits for the first record, ms. Default 200.
  int poll_timeout_ms = 200;
  // Wait after a failed batch before trying again, ms. Default 500.
  int retry_backoff_ms = 500;
  // Topic rejected records go to. Default tokenmeter.events.dlq.
  std::string dlq_topic = "tokenmeter.events.dlq";
  // Consumer group. Default tokenmeter-processor.
  std::string group_id = "tokenmeter-processor";
  // Per-workspace negotiated prices and model aliases (`workspaces[].price_overrides`,
  // `workspaces[].model_aliases`).
  std::vector<PriceOverride> price_overrides;
  std::vector<WorkspaceModelAlias> model_aliases;
  // Budgets, plan limits, alert routes and the repeat policy.
  AlertingConfig alerting;
  // How often every workspace's status is re-read and republished (period rollovers), ms.
  // Default 5000.
  int status_refresh_ms = 5000;
  // How often the rollup journal is folded into the rollup rows, ms, in [10, 60000].
  // Default 1000. Queries see unfolded deltas too; a longer interval writes each rollup
  // row less often and holds more distinct rows in memory.
  int rollup_fold_ms = 1000;
  // The dedup window and the events' retention (config key `retention`).
  RetentionConfig retention;

  Status Validate() const;
};

// The bus a processor runs on: how to subscribe (once the state exists, since the
// subscriber starts at the stored offsets) and where dead letters go.
struct ProcessorBus {
  std::function<Result<std::unique_ptr<Subscriber>>(Subscriber::NextOffsetFn)> subscribe;
  std::shared_ptr<Publisher> dead_letters;
  std::string topic;  // the events topic name, under which offsets are stored
  // One partition and no rebalances (the embedded log): the next poll is read and
  // decoded while a large batch is applied (ProcessorService's read-ahead).
  bool read_ahead = false;
  // Where workspace statuses go (the edges); called from the consume thread whenever a
  // workspace with a budget or plan limit may have changed, and on start. May be empty.
  std::function<void(const std::string& workspace, const WorkspaceStatus& status)> publish_status;
  // Where each committed batch's record outcomes go (to edges that answer once their
  // events are applied: directly in serve, through the outcomes topic distributed), after
  // the statuses the batch changed; called from the consume thread. May be empty.
  std::function<void(int partition, int64_t first_offset, std::span<const RecordOutcome> outcomes)>
      report_outcomes;
  // Where the partitions this processor owns go (the processors' directory, distributed):
  // those it answers for completely and those it is still catching up on. Called from the
  // consume thread when they change and once a second, and with none at Stop(). May be empty.
  std::function<void(const std::set<int>& serving, const std::set<int>& catching_up)> publish_claim;
};

class ProcessorRunner final : public HttpHandler {
 public:
  // `pricing`: the catalog with the config file's pricing (PricingRules::Make of the
  // config's price_overrides and model_aliases), shared with the settings' checks.
  static Result<std::unique_ptr<ProcessorRunner>> Create(const ProcessorConfig& config,
                                                         ProcessorBus bus,
                                                         const IngestLimits& limits,
                                                         const KeyRing& keys, const Clock& clock,
                                                         prometheus::Registry& registry,
                                                         std::shared_ptr<const PricingRules> pricing);
  ~ProcessorRunner() override;

  // Starts consuming. Every budget and plan limit then in force is reviewed once its
  // workspace is served here (what changed while the processor was down decides at once).
  void Start();
  // Finishes the batch in hand, leaves the consumer group, flushes the DLQ producer.
  void Stop();

  void Handle(HttpRequest request, Respond respond) override;
  // The path prefixes of the query and alerts APIs, which a port shared with the edge
  // (serve) sends here.
  static std::vector<std::string> RoutePrefixes();

  // Whether this processor answers for a workspace: it owns the workspace's partition and
  // has applied every record the log held when it took the partition over (kServing);
  // owns it and is still rebuilding or catching up (kCatchingUp); another processor owns
  // it (kElsewhere, with its partition); or the topic's partitions are not known yet.
  // Any thread.
  struct Standing {
    enum class Kind { kServing, kCatchingUp, kElsewhere, kUnknown } kind = Kind::kUnknown;
    int partition = -1;
  };
  Standing StandingOf(std::string_view workspace) const;

  // Why the processor's /readyz would answer 503 now (history lost, disk full, failing
  // batches, the bus); nullopt when ready. serve's edge adds it to its own. Any thread.
  std::optional<OpsEndpoints::Unready> NotReady() const;

  // What to evaluate anew after a settings change: a budget of a workspace, or (empty
  // budget id) its plan limit.
  struct Review {
    std::string workspace;
    std::string budget_id;
  };
  // Budgets, plan limits and alert routes from the settings log (the admin API), beside the
  // config file's: the rules in force become the config's with these, in one step (a batch
  // sees the old set or the new). `review`, when given, is evaluated on the consume thread
  // before its next batch, so a budget lowered under its spend fires at once, a raised one
  // resolves, a plan limit lowered under this month's requests pauses the workspace and
  // alerts. Fails (nothing changes) on a set the config's rules refuse. Any thread.
  Status SetSettingsAlerting(AlertingConfig extra, std::optional<Review> review);
  // Price overrides and model aliases from the settings log (every workspace's), beside the
  // config file's: the next batches are priced with the book of both (a batch being priced
  // keeps its book). Fails (nothing changes) on a set the rules refuse. Any thread.
  Status SetSettingsPricing(const std::vector<PriceOverride>& overrides, const std::vector<WorkspaceModelAlias>& aliases);
  // The outbox the sinks deliver from; valid until the runner is destroyed.
  Outbox& outbox();

  struct Impl;

 private:
  explicit ProcessorRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PROCESSOR_RUNNER_H_
