// The settings log of each form, read whole before a process serves: `serve` keeps it in
// data_dir/log/settings.*.log (an embedded log of its own, never trimmed); the distributed
// form in bus.kafka.settings_topic, which every edge and processor reads whole, every
// partition from its start, with no consumer group.
#ifndef TOKENMETER_DEPLOY_SETTINGS_BUS_H_
#define TOKENMETER_DEPLOY_SETTINGS_BUS_H_

#include <memory>
#include <mutex>

#include "config_file.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/edge/edge_service.h"
#include "tokenmeter/model/normalizer.h"
#include "tokenmeter/processor/processor_runner.h"
#include "tokenmeter/settings/settings_follower.h"

namespace tokenmeter {

// The settings over the config file's keys and projects; the key ring is `keys`'s. A
// pricing change is checked by `pricing` (the processors' rules: the catalog with the
// config file's pricing) with model names as `normalizer` reads them.
std::unique_ptr<LiveSettings> ConfigSettings(const AppConfig& config, KeyRing& keys,
                                             std::shared_ptr<const PricingRules> pricing, const Normalizer& normalizer);
// A workspace's pricing texts (the settings') checked and normalized, appended to
// `overrides` and `aliases`; the error names the entry ("overrides[0]: input_usd_per_mtok ...").
Status PricingOf(const std::string& workspace, const std::vector<PriceOverrideRecord>& override_texts,
                 const std::vector<ModelAliasRecord>& alias_texts, const Normalizer& normalizer,
                 std::vector<PriceOverride>& overrides, std::vector<WorkspaceModelAlias>& aliases);
// The edge's project slugs, live from `settings` (which must outlive the edge).
EdgeService::ProjectsOf LiveProjects(const LiveSettings& settings);

// Carries the settings' budgets, plan limits, alert routes and pricing to a processor: the
// whole set once it is attached, and anew after each such change (a changed budget or plan
// to be evaluated at once; a pricing change prices the next batches). Construct it before
// the settings follower starts (it takes LiveSettings' OnApplied).
class SettingsRules {
 public:
  SettingsRules(LiveSettings& settings, Normalizer normalizer);
  // Pushes the current sets; `runner` must outlive this.
  Status Attach(ProcessorRunner* runner);

 private:
  Status PushAlerting(std::optional<ProcessorRunner::Review> review);
  Status PushPricing();
  LiveSettings& settings_;
  Normalizer normalizer_;
  std::mutex mu_;  // one push at a time, so the last set pushed is the newest
  ProcessorRunner* runner_ = nullptr;  // under mu_
};

// A producer of the settings topic (the admin API's changes).
Result<std::unique_ptr<KafkaPublisher>> SettingsPublisher(const KafkaConfig& kafka);

// A follower of the settings topic for `settings`, started (the process serves through a
// SettingsGate until it has caught up).
Result<std::unique_ptr<SettingsFollower>> FollowKafkaSettings(const KafkaConfig& kafka, LiveSettings& settings);

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_SETTINGS_BUS_H_
