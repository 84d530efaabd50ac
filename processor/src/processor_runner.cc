#include "tokenmeter/processor/processor_runner.h"

#include "tokenmeter/processor/pricing_rules.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "dedup/dedup_index.h"
#include "emit/alert_store.h"
#include "evaluate/workspace_view.h"
#include "pipeline.h"
#include "processor_probe.h"
#include "processor_service.h"
#include "query/alerts_api.h"
#include "query/query_api.h"
#include "retention.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "tokenmeter/http/json_error.h"
#include "tokenmeter/http/ops_endpoints.h"

namespace tokenmeter {

Status ProcessorConfig::Validate() const {
  if (state_dir.empty()) return InvalidArgument("processor.state_dir is required");
  if (max_batch < 1 || max_batch > 100000) return InvalidArgument("processor.max_batch must be in [1, 100000]");
  if (poll_timeout_ms < 1 || poll_timeout_ms > 10000) {
    return InvalidArgument("processor.poll_timeout_ms must be in [1, 10000]");
  }
  if (retry_backoff_ms < 1) return InvalidArgument("processor.retry_backoff_ms must be >= 1");
  if (dlq_topic.empty() || group_id.empty()) {
    return InvalidArgument("processor.dlq_topic and processor.group_id must not be empty");
  }
  if (status_refresh_ms < 100) return InvalidArgument("processor.status_refresh_ms must be >= 100");
  if (rollup_fold_ms < 10 || rollup_fold_ms > 60000) {
    return InvalidArgument("processor.rollup_fold_ms must be in [10, 60000]");
  }
  RETURN_IF_ERROR(retention.Validate());
  return alerting.Validate();
}

struct ProcessorRunner::Impl {
  using Standing = ProcessorRunner::Standing;
  ProcessorConfig config;
  std::string topic;
  IngestLimits limits;
  Normalizer normalizer;
  std::unique_ptr<EventParser> parser;
  DedupHorizon dedup_horizon;  // read by the store's compactions: declared first, destroyed after it
  std::unique_ptr<StateStore> store;
  std::unique_ptr<DedupIndex> dedup;
  std::unique_ptr<RollupJournal> rollups;
  std::shared_ptr<const PricingRules> pricing;  // the catalog with the config file's pricing
  std::unique_ptr<BatchPipeline> pipeline;
  std::shared_ptr<Publisher> dlq;
  std::unique_ptr<Subscriber> consumer;
  std::unique_ptr<ProcessorService> service;
  std::unique_ptr<ProcessorProbe> probe;
  std::unique_ptr<OpsEndpoints> ops;  // /healthz, /readyz, /metrics
  std::unique_ptr<QueryApi> query;
  std::shared_ptr<LiveRules> rules;  // the config file's with the settings' budgets
  std::mutex reviews_mu;
  std::vector<ProcessorRunner::Review> reviews;  // under reviews_mu
  std::unique_ptr<AlertStore> alerts;
  std::unique_ptr<AlertsApi> alerts_api;
  std::function<void(const std::string&, const WorkspaceStatus&)> publish_status;
  std::function<void(int, int64_t, std::span<const RecordOutcome>)> report_outcomes;
  std::function<void(const std::set<int>&, const std::set<int>&)> publish_claim;
  std::pair<std::set<int>, std::set<int>> claimed;  // last published: serving, catching up
  std::chrono::steady_clock::time_point claimed_at{};
  std::map<std::string, WorkspaceStatus> published;
  const Clock* clock = nullptr;
  std::thread loop;
  std::thread folder;
  std::mutex fold_mu;
  std::condition_variable fold_cv;
  bool fold_stop = false;  // under fold_mu; set once the consume thread has stopped
  std::atomic<bool> stop{false};
  std::atomic<int> consecutive_failures{0};

  // Whether partition `p`, owned, has every record applied that its log held when this
  // processor took it (`taken`: Subscriber::TakenAt).
  bool Complete(int p, const std::map<int, int64_t>& taken) const {
    auto t = taken.find(p);
    if (t == taken.end() || t->second == 0) return true;
    if (t->second < 0) return false;  // the log's end is not known yet
    Result<std::optional<int64_t>> next = store->NextOffset(topic, p);
    return next.ok() && next->value_or(0) >= t->second;
  }

  Standing StandingOf(std::string_view workspace) const {
    std::optional<int> p = consumer->PartitionOf(workspace);
    if (!p) return {};
    if (!consumer->Assigned().contains(*p)) return {Standing::Kind::kElsewhere, *p};
    return {Complete(*p, consumer->TakenAt()) ? Standing::Kind::kServing : Standing::Kind::kCatchingUp, *p};
  }

  // Publishes the owned partitions by completeness when they changed or a second passed.
  void PublishClaim(std::chrono::steady_clock::time_point now) {
    if (!publish_claim) return;
    std::pair<std::set<int>, std::set<int>> owned;
    const std::map<int, int64_t> taken = consumer->TakenAt();
    for (int p : consumer->Assigned()) (Complete(p, taken) ? owned.first : owned.second).insert(p);
    if (owned == claimed && now - claimed_at < std::chrono::seconds(1)) return;
    claimed = std::move(owned);
    claimed_at = now;
    publish_claim(claimed.first, claimed.second);
  }

  // Re-reads the statuses of `workspaces` (those with rules) and publishes the changed ones
  // this processor answers for (another's owner publishes them).
  void PublishStatuses(const std::vector<std::string>& workspaces) {
    if (!publish_status) return;
    const std::shared_ptr<const AlertRules> rules = this->rules->Current();
    for (const std::string& ws : workspaces) {
      // A workspace without rules has nothing to say, unless it had (a removed plan limit).
      if (rules->BudgetsFor(ws).empty() && !rules->PlanFor(ws) && !published.contains(ws)) continue;
      if (StandingOf(ws).kind != Standing::Kind::kServing) continue;
      Result<WorkspaceView> v = ReadWorkspaceView(*store, *rules, ws, clock->Now());
      if (!v.ok()) {
        Log(LogLevel::kError, "processor", "status_read_failed", {{"workspace", ws}, {"error", v.status().ToString()}});
        continue;
      }
      auto it = published.find(ws);
      if (it != published.end() && it->second == v->status) continue;
      published[ws] = v->status;
      publish_status(ws, v->status);
    }
  }

  void SampleOutbox() {
    Result<OutboxDepth> d = alerts->Depth();
    if (!d.ok()) return;
    double age = d->oldest_pending_queued_ms == 0
                     ? 0.0
                     : std::max<double>(0, (clock->Now().time_since_epoch().count() - d->oldest_pending_queued_ms) / 1000.0);
    probe->OutboxDepth(d->pending, d->dead, age);
  }

  void FoldOnce() {
    auto start = std::chrono::steady_clock::now();
    size_t rows = rollups->PendingRows();
    Status s = rollups->Fold();
    probe->RollupFold(s.ok(), rows, std::chrono::steady_clock::now() - start);
    if (!s.ok()) Log(LogLevel::kError, "processor", "rollup_fold_failed", {{"error", s.ToString()}});
  }

  // Folds the rollup journal every rollup_fold_ms until stopped, then once more after the
  // last batch, so a clean stop leaves nothing to reload.
  void FoldLoop() {
    std::unique_lock lock(fold_mu);
    while (!fold_stop) {
      fold_cv.wait_for(lock, std::chrono::milliseconds(config.rollup_fold_ms), [this] { return fold_stop; });
      lock.unlock();
      FoldOnce();
      probe->RollupPending(rollups->PendingRows());
      lock.lock();
    }
  }

  // The budgets and plan limits whose settings changed, evaluated anew (their alerts with
  // their state), and the workspaces' statuses published.
  void ReviewBudgets() {
    std::vector<ProcessorRunner::Review> todo;
    {
      std::lock_guard lock(reviews_mu);
      todo.swap(reviews);
    }
    for (const ProcessorRunner::Review& r : todo) {
      // A workspace another processor owns is reviewed there; one still being rebuilt here,
      // once it is complete; all of them, while no partition is assigned here yet (at start,
      // before the group's first assignment).
      const Standing::Kind standing = StandingOf(r.workspace).kind;
      if (standing == Standing::Kind::kElsewhere && !consumer->Assigned().empty()) continue;
      if (standing != Standing::Kind::kServing) {
        std::lock_guard lock(reviews_mu);
        reviews.push_back(r);
        continue;
      }
      Result<PreparedBatch> review =
          r.budget_id.empty() ? pipeline->PreparePlanReview(r.workspace) : pipeline->PrepareBudgetReview(r.workspace, r.budget_id);
      Status s = review.ok() ? pipeline->Commit(*review) : review.status();
      if (!s.ok()) {
        Log(LogLevel::kError, "processor", "settings_review_failed",
            {{"workspace", r.workspace}, {"budget", r.budget_id}, {"error", s.ToString()}});
        std::lock_guard lock(reviews_mu);
        reviews.push_back(r);  // tried again next round
        continue;
      }
      probe->BatchApplied(review->stats, {});  // its alerts decided; no records
      PublishStatuses({r.workspace});  // a changed plan or budget may change its status
    }
  }

  void Run() {
    auto last_sample = std::chrono::steady_clock::time_point{};
    auto last_refresh = std::chrono::steady_clock::now();
    auto last_full = last_refresh;
    PublishStatuses(rules->Current()->Workspaces());
    while (!stop.load()) {
      ReviewBudgets();
      auto start = std::chrono::steady_clock::now();
      Result<BatchStats> r = service->RunOnce(std::chrono::milliseconds(config.poll_timeout_ms));
      probe->Partitions(consumer->Assigned().size(), consumer->HistoryLost().size());
      PublishClaim(std::chrono::steady_clock::now());
      if (start - last_sample >= std::chrono::seconds(1)) {  // gauges: once a second is plenty
        last_sample = start;
        std::map<int, int64_t> lag = service->Lag();  // read-ahead records count as not applied
        probe->Lag(lag);
        dedup_horizon.Update(clock->Now(), consumer->Assigned(), lag,
                             [this](int p) { return pipeline->NewestReceived(p); });
        probe->State(store->BackgroundErrors(), store->LiveDataBytes(), store->WriteFailure());
        probe->DedupIndexSize(dedup->used(), dedup->bytes());
        probe->Expired(store->Expired(Family::kDedup), store->Expired(Family::kEvents),
                       store->Expired(Family::kRollups));
        SampleOutbox();
        // Writes stopped by a failure no batch of events will retry (a fold, a settings
        // review, an alert's delivery outcome while no events arrive): resumed once possible.
        if (!store->WriteFailure().ok()) (void)store->Recover();
      }
      if (start - last_refresh >= std::chrono::milliseconds(config.status_refresh_ms)) {
        last_refresh = start;
        if (start - last_full >= std::chrono::minutes(1)) {  // republish all: heals a lost publish
          last_full = start;
          published.clear();
        }
        PublishStatuses(rules->Current()->Workspaces());  // a new day or month clears flags
      }
      if (r.ok()) {
        consecutive_failures = 0;
        probe->BatchApplied(*r, std::chrono::steady_clock::now() - start);
        PublishStatuses(r->workspaces);
        if (report_outcomes) {
          for (const BatchStats::Applied& a : r->applied) report_outcomes(a.partition, a.first_offset, a.outcomes);
        }
        continue;
      }
      ++consecutive_failures;
      probe->BatchFailed();
      std::this_thread::sleep_for(std::chrono::milliseconds(config.retry_backoff_ms));
      // A failed commit stops the store's writes until it recovers (with space again).
      if (Status recovered = store->Recover(); !recovered.ok()) {
        if (consecutive_failures % 20 == 1) {
          Log(LogLevel::kError, "processor", "state_recovery_failed", {{"error", recovered.ToString()}});
        }
      }
    }
  }
};

Result<std::unique_ptr<ProcessorRunner>> ProcessorRunner::Create(const ProcessorConfig& config,
                                                                 ProcessorBus bus,
                                                                 const IngestLimits& limits,
                                                                 const KeyRing& keys, const Clock& clock,
                                                                 prometheus::Registry& registry,
                                                                 std::shared_ptr<const PricingRules> pricing) {
  RETURN_IF_ERROR(config.Validate());
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->topic = bus.topic;
  impl->limits = limits;
  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  if (!normalizer.ok()) return normalizer.status();
  impl->normalizer = std::move(*normalizer);
  impl->parser = std::make_unique<EventParser>(impl->limits, impl->normalizer);
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(
      config.state_dir, ProcessorStateOptions(&config.retention, &clock, &impl->dedup_horizon));
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  Result<std::unique_ptr<DedupIndex>> dedup = DedupIndex::Load(*impl->store);
  if (!dedup.ok()) return dedup.status();
  impl->dedup = std::move(*dedup);
  Result<std::unique_ptr<RollupJournal>> rollups = RollupJournal::Open(*impl->store);
  if (!rollups.ok()) return rollups.status();
  impl->rollups = std::move(*rollups);
  impl->pricing = std::move(pricing);
  impl->clock = &clock;
  impl->rules = std::make_shared<LiveRules>(std::make_shared<const AlertRules>(config.alerting));
  impl->alerts = std::make_unique<AlertStore>(*impl->store);
  impl->publish_status = std::move(bus.publish_status);
  impl->report_outcomes = std::move(bus.report_outcomes);
  impl->publish_claim = std::move(bus.publish_claim);
  impl->pipeline = std::make_unique<BatchPipeline>(*impl->store, *impl->dedup, *impl->rollups, *impl->parser, impl->pricing->base(), bus.topic,
                                                   impl->rules, &clock, config.retention.dedup_window());
  impl->dlq = std::move(bus.dead_letters);
  StateStore* s = impl->store.get();
  std::string topic = bus.topic;
  Result<std::unique_ptr<Subscriber>> consumer =
      bus.subscribe([s, topic](int p) { return s->NextOffset(topic, p); });
  if (!consumer.ok()) return consumer.status();
  impl->consumer = std::move(*consumer);
  impl->service = std::make_unique<ProcessorService>(
      *impl->store, *impl->pipeline, *impl->consumer, *impl->dlq, bus.topic,
      static_cast<size_t>(config.max_batch), bus.read_ahead);
  impl->probe = std::make_unique<ProcessorProbe>(registry);
  OpsEndpoints::Hooks hooks;
  Impl* i = impl.get();
  hooks.unready = [i]() -> std::optional<OpsEndpoints::Unready> {
    if (size_t lost = i->consumer->HistoryLost().size(); lost > 0) {
      return OpsEndpoints::Unready{
          "history_lost", std::to_string(lost) +
                              " partition(s) were rebuilt from a log that no longer starts at 0; totals are partial"};
    }
    if (Status failure = i->store->WriteFailure(); failure.code() == Code::kNoSpace) {
      return OpsEndpoints::Unready{"disk_full", "the state store's disk is full: " + failure.message()};
    }
    if (i->consecutive_failures.load() >= 3) {
      return OpsEndpoints::Unready{"state_unavailable", "batches are failing; see logs"};
    }
    // The bus: a batch with a poison record cannot commit until its dead letter is durable
    // (and, distributed, an unreachable cluster assigns no partitions either).
    if (Status bus = i->dlq->Ready(); !bus.ok()) {
      return OpsEndpoints::Unready{bus.code() == Code::kNoSpace ? "disk_full" : "bus_unavailable",
                                   "the dead-letter topic cannot take records: " + bus.message()};
    }
    return std::nullopt;
  };
  hooks.ready_members = [i] {
    return ",\"assignedPartitions\":" + std::to_string(i->consumer->Assigned().size());
  };
  impl->ops = std::make_unique<OpsEndpoints>(registry, std::move(hooks));
  impl->query = std::make_unique<QueryApi>(*impl->store, *impl->dedup, *impl->rollups, keys, clock, config.retention);
  impl->alerts_api = std::make_unique<AlertsApi>(*impl->store, *impl->alerts, *impl->rules, keys, clock);
  const DedupIndex::LoadStats& load = impl->dedup->load_stats();
  Log(LogLevel::kInfo, "processor", "state_opened",
      {{"dir", config.state_dir},
       {"catalog_version", impl->pricing->base()->version()},
       {"dedup_rows", std::to_string(load.rows)},
       {"dedup_index_load_seconds", std::to_string(load.seconds)}});
  return std::unique_ptr<ProcessorRunner>(new ProcessorRunner(std::move(impl)));
}

ProcessorRunner::ProcessorRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::optional<OpsEndpoints::Unready> ProcessorRunner::NotReady() const { return impl_->ops->NotReady(); }

ProcessorRunner::Standing ProcessorRunner::StandingOf(std::string_view workspace) const {
  return impl_->StandingOf(workspace);
}

Status ProcessorRunner::SetSettingsAlerting(AlertingConfig extra, std::optional<Review> review) {
  AlertingConfig alerting = impl_->config.alerting;
  alerting.budgets.insert(alerting.budgets.end(), extra.budgets.begin(), extra.budgets.end());
  alerting.plan_limits.insert(alerting.plan_limits.end(), extra.plan_limits.begin(), extra.plan_limits.end());
  alerting.routes.insert(alerting.routes.end(), extra.routes.begin(), extra.routes.end());
  RETURN_IF_ERROR(alerting.Validate());
  impl_->rules->Replace(std::make_shared<const AlertRules>(std::move(alerting)));
  if (review) {
    std::lock_guard lock(impl_->reviews_mu);
    impl_->reviews.push_back(std::move(*review));
  }
  return Status::Ok();
}

Status ProcessorRunner::SetSettingsPricing(const std::vector<PriceOverride>& overrides,
                                           const std::vector<WorkspaceModelAlias>& aliases) {
  Result<std::shared_ptr<const PriceBook>> book = impl_->pricing->BookWith(overrides, aliases);
  if (!book.ok()) return book.status();
  impl_->pipeline->SetPrices(std::move(*book));
  return Status::Ok();
}

ProcessorRunner::~ProcessorRunner() { Stop(); }

void ProcessorRunner::Start() {
  Impl* impl = impl_.get();
  // Every budget and plan limit in force is evaluated once its workspace is served here: a
  // budget lowered or a plan set while the processor was down (in the settings log, or the
  // config file) decides its alert now, not at the workspace's next event. Reviews of
  // unchanged ones decide nothing.
  {
    const std::shared_ptr<const AlertRules> rules = impl->rules->Current();
    std::lock_guard lock(impl->reviews_mu);
    for (const std::string& workspace : rules->Workspaces()) {
      for (const BudgetConfig* b : rules->BudgetsFor(workspace)) impl->reviews.push_back({workspace, b->id});
      if (rules->PlanFor(workspace) != nullptr) impl->reviews.push_back({workspace, ""});
    }
  }
  impl_->loop = StartThread("tm-processor", [impl] { impl->Run(); });
  impl_->folder = StartThread("tm-rollup-fold", [impl] { impl->FoldLoop(); });
}

void ProcessorRunner::Stop() {
  impl_->stop = true;
  if (impl_->loop.joinable()) impl_->loop.join();
  {
    std::lock_guard lock(impl_->fold_mu);
    impl_->fold_stop = true;
  }
  impl_->fold_cv.notify_all();
  if (impl_->folder.joinable()) impl_->folder.join();
  if (impl_->consumer) impl_->consumer->Close();
  if (impl_->publish_claim && impl_->claimed_at != std::chrono::steady_clock::time_point{}) {
    impl_->claimed_at = {};
    impl_->publish_claim({}, {});  // the others stop sending questions here
  }
  if (impl_->dlq) {
    Status s = impl_->dlq->Flush(std::chrono::seconds(10));
    if (!s.ok()) Log(LogLevel::kError, "processor", "dlq_flush_incomplete", {{"error", s.ToString()}});
  }
}

Outbox& ProcessorRunner::outbox() { return *impl_->alerts; }

std::vector<std::string> ProcessorRunner::RoutePrefixes() {
  std::vector<std::string> out(QueryApi::kRoutePrefixes.begin(), QueryApi::kRoutePrefixes.end());
  out.insert(out.end(), AlertsApi::kRoutePrefixes.begin(), AlertsApi::kRoutePrefixes.end());
  return out;
}

void ProcessorRunner::Handle(HttpRequest request, Respond respond) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (QueryApi::Serves(path)) {
    respond(impl_->query->Handle(request));
    return;
  }
  if (AlertsApi::Serves(path)) {
    respond(impl_->alerts_api->Handle(request));
    return;
  }
  respond(OpsEndpoints::Serves(path) ? impl_->ops->Answer(request.method, path)
                                     : JsonError(404, "not_found", "no such endpoint"));
}

}  // namespace tokenmeter
