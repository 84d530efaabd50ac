// LiveSettings: the settings every process applies from the settings log, in its order,
// over what the config file declares: API keys, projects, budgets, plan limits, alert
// routes and pricing (price overrides, model aliases). Each change is checked against the
// settings as they stand when it is applied (the same rules for every process, so all
// end up alike) and applied whole: the key ring is replaced in one step. A refused change
// stays in the audit trail with the reason.
//
// The config file's keys, projects and budgets are read-only here: a change that names one is
// refused (README "Admin API": the file wins for what it declares).
//
// Threads: Apply and ExpireWaiters from the settings follower's thread; the rest from any
// (HTTP threads). Callbacks given to WhenApplied run on the follower's thread, or on the
// caller's when the change is already applied.
#ifndef TOKENMETER_SETTINGS_LIVE_SETTINGS_H_
#define TOKENMETER_SETTINGS_LIVE_SETTINGS_H_

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/settings/settings_change.h"

namespace tokenmeter {

// One change as the audit trail shows it (its key's hashes left out).
struct AuditEntry {
  int partition = 0;
  int64_t offset = 0;
  std::string change_id;
  std::string workspace;
  std::string actor;
  int64_t at_ms = 0;
  SettingsAction action = SettingsAction::kKeyCreate;
  std::string target;   // the key id, project slug or budget id
  std::string refused;  // empty: applied; else why not
};

class LiveSettings {
 public:
  // Project slugs per workspace, as the edge checks events against them.
  using ProjectSlugs = std::unordered_map<std::string, std::unordered_set<std::string>>;

  // The price overrides and model aliases of a workspace (the config file's, or the API's).
  struct Pricing {
    std::vector<PriceOverrideRecord> overrides;
    std::vector<ModelAliasRecord> aliases;
  };
  // What the config file declares, and the rules of another component's settings.
  struct Declared {
    std::vector<KeyRecord> keys;
    std::map<std::string, std::vector<std::string>> projects;  // workspace -> slugs
    std::map<std::string, std::vector<std::string>> budgets;   // workspace -> budget ids
    std::set<std::string> plans;                               // workspaces with a plan limit
    std::map<std::string, Pricing> pricing;                    // workspace -> its pricing
    // The rules of a budget.put or routes.put (the processor's: a budget's amount, period,
    // thresholds and data modes; a route's sink and alert types), with the config file's
    // messages. Unset: any is taken.
    std::function<Status(const SettingsChange&)> check_alerting;
    // The rules of a pricing.put (the processor's: the config file's messages, and no alias
    // or override the config file declares for the workspace). Unset: any is taken.
    std::function<Status(const SettingsChange&)> check_pricing;
  };

  // `ring` is the key ring every service verifies with; it must outlive this. It is
  // replaced with the config file's keys at once.
  LiveSettings(Declared declared, KeyRing& ring);

  // Called after each change is applied (not a refused one), on the follower's thread,
  // outside any lock. Set before the follower starts.
  void OnApplied(std::function<void(const SettingsChange&)> f) { on_applied_ = std::move(f); }

  // Whether `c` would be applied to the settings as they are now (the rules Apply uses).
  Status Check(const SettingsChange& c) const;
  // Applies the change read at (partition, offset) if Check allows it; records it in the
  // audit trail either way, then answers the WhenApplied callers waiting for it.
  void Apply(int partition, int64_t offset, const SettingsChange& c);
  // A record that is not a change (logged by the follower): audited as refused.
  void Unreadable(int partition, int64_t offset, const std::string& why);

  // Every key of a workspace: the config file's and the API's, by creation then id.
  std::vector<KeyRecord> Keys(const std::string& workspace) const;
  // Every project of a workspace: the config file's, then the API's by creation.
  std::vector<ProjectRecord> Projects(const std::string& workspace) const;
  // The slugs of every workspace's projects, as of the last change applied: a snapshot
  // the caller may keep (changes swap in a new one). Any thread; cheap.
  std::shared_ptr<const ProjectSlugs> Slugs() const;
  // The budgets made through the API: of one workspace by id, or of every workspace.
  std::vector<BudgetRecord> Budgets(const std::string& workspace) const;
  std::map<std::string, std::vector<BudgetRecord>> AllBudgets() const;
  // The ids of the config file's budgets of a workspace.
  std::vector<std::string> ConfigBudgetIds(const std::string& workspace) const;
  // The plan limits (requests per month) and alert routes made through the API.
  std::map<std::string, int64_t> AllPlans() const;
  std::map<std::string, std::vector<RouteRecord>> AllRoutes() const;
  // The pricing made through the API, by workspace; the config file's of one workspace.
  std::map<std::string, Pricing> AllPricing() const;
  Pricing ConfigPricing(const std::string& workspace) const;
  // The workspace's changes, newest first, at most `limit`.
  std::vector<AuditEntry> Audit(const std::string& workspace, size_t limit) const;

  // Calls done(entry) once the record at (partition, offset) is applied, or done(nullopt)
  // at `deadline` (checked by ExpireWaiters).
  using Waiter = std::function<void(std::optional<AuditEntry>)>;
  void WhenApplied(int partition, int64_t offset, std::chrono::steady_clock::time_point deadline, Waiter done);
  void ExpireWaiters(std::chrono::steady_clock::time_point now);

 private:
  Status CheckLocked(const SettingsChange& c) const;
  Status CheckKeyLocked(const SettingsChange& c) const;
  Status CheckProjectLocked(const SettingsChange& c) const;
  Status CheckBudgetLocked(const SettingsChange& c) const;
  Status CheckPlanOrRoutesLocked(const SettingsChange& c) const;
  void RebuildRingLocked();
  void RebuildSlugsLocked();

  KeyRing& ring_;
  std::function<void(const SettingsChange&)> on_applied_;
  mutable std::mutex mu_;
  std::vector<KeyRecord> config_keys_;
  std::map<std::string, std::vector<std::string>> config_budgets_;  // workspace -> ids
  std::set<std::string> config_plans_;
  std::function<Status(const SettingsChange&)> check_alerting_;
  std::function<Status(const SettingsChange&)> check_pricing_;
  std::map<std::string, Pricing> pricing_;         // workspace -> its API pricing
  std::map<std::string, Pricing> config_pricing_;  // workspace -> the config file's
  std::map<std::string, int64_t> plans_;                       // workspace -> requests per month
  std::map<std::string, std::vector<RouteRecord>> routes_;     // workspace -> its API routes
  std::map<std::string, std::map<std::string, BudgetRecord>> budgets_;  // workspace -> id -> budget
  std::map<std::string, KeyRecord> api_keys_;  // by id
  std::map<std::string, std::map<std::string, ProjectRecord>> projects_;  // workspace -> slug -> project
  mutable std::shared_mutex slugs_mu_;  // guards slugs_ (the pointer)
  std::shared_ptr<const ProjectSlugs> slugs_;
  std::vector<AuditEntry> audit_;              // in the order applied
  std::map<int, int64_t> next_;                // per partition: the next offset to apply
  struct Waiting {
    int64_t offset;
    std::chrono::steady_clock::time_point deadline;
    Waiter done;
  };
  std::map<int, std::vector<Waiting>> waiting_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SETTINGS_LIVE_SETTINGS_H_
