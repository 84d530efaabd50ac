#include "settings_bus.h"

#include <unistd.h>

#include <random>

#include "tokenmeter/base/log.h"
#include "tokenmeter/bus/kafka_consumer.h"

namespace tokenmeter {

std::unique_ptr<LiveSettings> ConfigSettings(const AppConfig& config, KeyRing& keys) {
  std::map<std::string, std::vector<std::string>> projects;
  for (const WorkspaceConfig& w : config.edge.workspaces) projects[w.id] = w.projects;
  return std::make_unique<LiveSettings>(config.keys, projects, keys);
}

EdgeService::ProjectsOf LiveProjects(const LiveSettings& settings) {
  return [&settings](const std::string& workspace) -> std::shared_ptr<const std::unordered_set<std::string>> {
    std::shared_ptr<const LiveSettings::ProjectSlugs> all = settings.Slugs();
    auto it = all->find(workspace);
    if (it == all->end()) return nullptr;
    return {all, &it->second};  // shares the snapshot's ownership
  };
}

Status StartCaughtUp(SettingsFollower& follower, const char* component) {
  follower.Start();
  if (!follower.WaitCaughtUp(std::chrono::seconds(30))) {
    return Unavailable("the settings log was not read to its end within 30 s");
  }
  Log(LogLevel::kInfo, component, "settings_loaded", {});
  return Status::Ok();
}

Result<std::unique_ptr<SettingsFollower>> FollowKafkaSettings(const KafkaConfig& kafka, LiveSettings& settings,
                                                              const char* component) {
  KafkaConsumerConfig cc;
  cc.bootstrap_servers = kafka.bootstrap_servers;
  cc.topic = kafka.settings_topic;
  cc.group_id = std::string("tokenmeter-settings-") + component + "-" + std::to_string(getpid()) + "-" +
                std::to_string(std::random_device{}());
  cc.properties = kafka.properties;
  cc.properties["auto.offset.reset"] = "earliest";
  // A change is answered once applied: fetch it as it comes.
  cc.properties.try_emplace("fetch.wait.max.ms", "5");
  auto consumer = KafkaConsumer::Create(cc, [](int) { return Result<std::optional<int64_t>>(std::nullopt); });
  if (!consumer.ok()) return consumer.status();
  auto follower = std::make_unique<SettingsFollower>(std::move(*consumer), settings);
  RETURN_IF_ERROR(StartCaughtUp(*follower, component));
  return follower;
}

}  // namespace tokenmeter
