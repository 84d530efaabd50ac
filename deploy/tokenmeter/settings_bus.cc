#include "settings_bus.h"

#include "budget_text.h"
#include "pricing_text.h"
#include "tokenmeter/processor/pricing_rules.h"

#include <set>

#include "tokenmeter/model/alert.h"



#include "tokenmeter/base/log.h"
#include "tokenmeter/bus/kafka_consumer.h"

namespace tokenmeter {

std::unique_ptr<LiveSettings> ConfigSettings(const AppConfig& config, KeyRing& keys,
                                             std::shared_ptr<const PricingRules> pricing, const Normalizer& normalizer) {
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
  // The processors' pricing rules, so that every process decides a pricing change alike.
  declared.pricing = config.pricing_text;
  declared.check_pricing = [rules = std::move(pricing), normalizer](const SettingsChange& c) -> Status {
    std::vector<PriceOverride> overrides;
    std::vector<WorkspaceModelAlias> aliases;
    RETURN_IF_ERROR(PricingOf(c.workspace, c.price_overrides, c.model_aliases, normalizer, overrides, aliases));
    return rules->Check(overrides, aliases);
  };
  return std::make_unique<LiveSettings>(std::move(declared), keys);
}

Status PricingOf(const std::string& workspace, const std::vector<PriceOverrideRecord>& override_texts,
                 const std::vector<ModelAliasRecord>& alias_texts, const Normalizer& normalizer,
                 std::vector<PriceOverride>& overrides, std::vector<WorkspaceModelAlias>& aliases) {
  for (size_t i = 0; i < override_texts.size(); ++i) {
    Result<PriceOverride> o = PriceOverrideOf(workspace, override_texts[i], normalizer);
    if (!o.ok()) return InvalidArgument("overrides[" + std::to_string(i) + "]: " + o.status().message());
    overrides.push_back(std::move(*o));
  }
  for (size_t i = 0; i < alias_texts.size(); ++i) {
    Result<WorkspaceModelAlias> a = ModelAliasOf(workspace, alias_texts[i], normalizer);
    if (!a.ok()) return InvalidArgument("aliases[" + std::to_string(i) + "]: " + a.status().message());
    aliases.push_back(std::move(*a));
  }
  return Status::Ok();
}

SettingsRules::SettingsRules(LiveSettings& settings, Normalizer normalizer)
    : settings_(settings), normalizer_(std::move(normalizer)) {
  settings_.OnApplied([this](const SettingsChange& c) {
    if (c.action == SettingsAction::kPricingPut) {
      if (Status s = PushPricing(); !s.ok()) {
        Log(LogLevel::kError, "processor", "settings_pricing_refused", {{"error", s.ToString()}});
      }
      return;
    }
    if (!IsAlertingAction(c.action)) return;
    ProcessorRunner::Review review{c.workspace, IsBudgetAction(c.action) ? c.budget.id : ""};
    if (c.action == SettingsAction::kRoutesPut) review = {};  // routes decide nothing by themselves
    if (Status s = PushAlerting(review.workspace.empty() ? std::nullopt : std::optional(review)); !s.ok()) {
      Log(LogLevel::kError, "processor", "settings_alerting_refused", {{"error", s.ToString()}});
    }
  });
}

Status SettingsRules::Attach(ProcessorRunner* runner) {
  {
    std::lock_guard lock(mu_);
    runner_ = runner;
  }
  RETURN_IF_ERROR(PushPricing());
  return PushAlerting(std::nullopt);
}

Status SettingsRules::PushPricing() {
  std::lock_guard lock(mu_);
  if (runner_ == nullptr) return Status::Ok();  // Attach pushes the set
  std::vector<PriceOverride> overrides;
  std::vector<WorkspaceModelAlias> aliases;
  for (const auto& [workspace, p] : settings_.AllPricing()) {
    RETURN_IF_ERROR(PricingOf(workspace, p.overrides, p.aliases, normalizer_, overrides, aliases));  // checked when applied
  }
  return runner_->SetSettingsPricing(overrides, aliases);
}

Status SettingsRules::PushAlerting(std::optional<ProcessorRunner::Review> review) {
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
