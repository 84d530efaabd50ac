#include "settings_bus.h"

#include "budget_text.h"



#include "tokenmeter/base/log.h"
#include "tokenmeter/bus/kafka_consumer.h"

namespace tokenmeter {

std::unique_ptr<LiveSettings> ConfigSettings(const AppConfig& config, KeyRing& keys) {
  LiveSettings::Declared declared;
  declared.keys = config.keys;
  for (const WorkspaceConfig& w : config.edge.workspaces) declared.projects[w.id] = w.projects;
  for (const BudgetConfig& b : config.processor.alerting.budgets) declared.budgets[b.workspace].push_back(b.id);
  declared.check_budget = [](const std::string& workspace, const BudgetRecord& b) {
    return BudgetOf(workspace, b).status();
  };
  return std::make_unique<LiveSettings>(std::move(declared), keys);
}

SettingsBudgets::SettingsBudgets(LiveSettings& settings) : settings_(settings) {
  settings_.OnApplied([this](const SettingsChange& c) {
    if (!IsBudgetAction(c.action)) return;
    if (Status s = Push(std::make_pair(c.workspace, c.budget.id)); !s.ok()) {
      Log(LogLevel::kError, "processor", "settings_budgets_refused", {{"error", s.ToString()}});
    }
  });
}

Status SettingsBudgets::Attach(ProcessorRunner* runner) {
  {
    std::lock_guard lock(mu_);
    runner_ = runner;
  }
  return Push(std::nullopt);
}

Status SettingsBudgets::Push(std::optional<std::pair<std::string, std::string>> changed) {
  std::lock_guard lock(mu_);
  if (runner_ == nullptr) return Status::Ok();  // Attach pushes the set
  std::vector<BudgetConfig> budgets;
  for (const auto& [workspace, records] : settings_.AllBudgets()) {
    for (const BudgetRecord& r : records) {
      Result<BudgetConfig> b = BudgetOf(workspace, r);
      if (!b.ok()) return b.status();  // checked when applied: not expected
      budgets.push_back(std::move(*b));
    }
  }
  return runner_->SetSettingsBudgets(std::move(budgets), std::move(changed));
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
  KafkaConsumerConfig cc;
  cc.bootstrap_servers = kafka.bootstrap_servers;
  cc.topic = kafka.settings_topic;
  cc.whole_topic = true;  // every partition from its start, no consumer group joined
  cc.group_id = "tokenmeter-settings-reader";
  cc.properties = kafka.properties;
  // A change is answered once applied: fetch it as it comes.
  cc.properties.try_emplace("fetch.wait.max.ms", "5");
  auto consumer = KafkaConsumer::Create(cc, [](int) { return Result<std::optional<int64_t>>(std::nullopt); });
  if (!consumer.ok()) return consumer.status();
  auto follower = std::make_unique<SettingsFollower>(std::move(*consumer), settings);
  follower->Start();
  return follower;
}

}  // namespace tokenmeter
