#include "settings_bus.h"

#include "budget_text.h"

#include <set>

#include "tokenmeter/model/alert.h"



#include "tokenmeter/base/log.h"
#include "tokenmeter/bus/kafka_consumer.h"

namespace tokenmeter {

std::unique_ptr<LiveSettings> ConfigSettings(const AppConfig& config, KeyRing& keys) {
  LiveSettings::Declared declared;
  declared.keys = config.keys;
  for (const WorkspaceConfig& w : config.edge.workspaces) declared.projects[w.id] = w.projects;
  for (const BudgetConfig& b : config.processor.alerting.budgets) declared.budgets[b.workspace].push_back(b.id);
  for (const PlanLimit& p : config.processor.alerting.plan_limits) declared.plans.insert(p.workspace);
  std::set<std::string> sinks;
  for (const SinkConfig& s : config.sinks) sinks.insert(s.id);
  declared.check_alerting = [sinks](const SettingsChange& c) -> Status {
    if (c.action == SettingsAction::kBudgetPut) return BudgetOf(c.workspace, c.budget).status();
    for (const RouteRecord& r : c.routes) {
      if (!sinks.contains(r.sink)) return InvalidArgument("sink \"" + r.sink + "\" is not in the config file's sinks:");
      for (const std::string& t : r.types) {
        if (!ParseAlertType(t)) return InvalidArgument("unknown alert type \"" + t + "\"");
      }
    }
    return Status::Ok();
  };
  return std::make_unique<LiveSettings>(std::move(declared), keys);
}

SettingsAlerting::SettingsAlerting(LiveSettings& settings) : settings_(settings) {
  settings_.OnApplied([this](const SettingsChange& c) {
    if (!IsAlertingAction(c.action)) return;
    ProcessorRunner::Review review{c.workspace, IsBudgetAction(c.action) ? c.budget.id : ""};
    if (c.action == SettingsAction::kRoutesPut) review = {};  // routes decide nothing by themselves
    if (Status s = Push(review.workspace.empty() ? std::nullopt : std::optional(review)); !s.ok()) {
      Log(LogLevel::kError, "processor", "settings_alerting_refused", {{"error", s.ToString()}});
    }
  });
}

Status SettingsAlerting::Attach(ProcessorRunner* runner) {
  {
    std::lock_guard lock(mu_);
    runner_ = runner;
  }
  return Push(std::nullopt);
}

Status SettingsAlerting::Push(std::optional<ProcessorRunner::Review> review) {
  std::lock_guard lock(mu_);
  if (runner_ == nullptr) return Status::Ok();  // Attach pushes the set
  AlertingConfig extra;
  for (const auto& [workspace, records] : settings_.AllBudgets()) {
    for (const BudgetRecord& r : records) {
      Result<BudgetConfig> b = BudgetOf(workspace, r);
      if (!b.ok()) return b.status();  // checked when applied: not expected
      extra.budgets.push_back(std::move(*b));
    }
  }
  for (const auto& [workspace, requests] : settings_.AllPlans()) extra.plan_limits.push_back({workspace, requests});
  for (const auto& [workspace, routes] : settings_.AllRoutes()) {
    for (const RouteRecord& r : routes) extra.routes.push_back({workspace, r.sink, r.types});
  }
  return runner_->SetSettingsAlerting(std::move(extra), std::move(review));
}

EdgeService::ProjectsOf LiveProjects(const LiveSettings& settings) {
  return [&settings](const std::string& workspace) -> std::shared_ptr<const std::unordered_set<std::string>> {
    std::shared_ptr<const LiveSettings::ProjectSlugs> all = settings.Slugs();
    auto it = all->find(workspace);
    if (it == all->end()) return nullptr;
    return {all, &it->second};  // shares the snapshot's ownership
  };
}

Result<std::unique_ptr<KafkaPublisher>> SettingsPublisher(const KafkaConfig& kafka) {
  KafkaConfig settings = kafka;
  settings.topic = kafka.settings_topic;
  return KafkaPublisher::Create(settings);
}

Result<std::unique_ptr<SettingsFollower>> FollowKafkaSettings(const KafkaConfig& kafka, LiveSettings& settings) {
  // A change is answered once applied: fetch it as it comes.
  KafkaConsumerConfig cc = WholeTopicReader(kafka.bootstrap_servers, kafka.settings_topic, kafka.properties,
                                            "tokenmeter-settings-reader", 5);
  auto consumer = KafkaConsumer::Create(cc, [](int) { return Result<std::optional<int64_t>>(std::nullopt); });
  if (!consumer.ok()) return consumer.status();
  auto follower = std::make_unique<SettingsFollower>(std::move(*consumer), settings);
  follower->Start();
  return follower;
}

}  // namespace tokenmeter
