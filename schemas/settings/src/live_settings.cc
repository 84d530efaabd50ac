#include "tokenmeter/settings/live_settings.h"

#include <algorithm>

#include "tokenmeter/base/log.h"

namespace tokenmeter {
namespace {

bool ActiveOwner(const KeyRecord& k) { return k.role == Role::kOwner && !k.revoked; }

// A project slug or environment name: [a-z0-9][a-z0-9._-]*, 64 bytes at most.
bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '.' || c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

LiveSettings::LiveSettings(Declared declared, KeyRing& ring)
    : ring_(ring),
      config_keys_(std::move(declared.keys)),
      config_budgets_(std::move(declared.budgets)),
      config_plans_(std::move(declared.plans)),
      check_alerting_(std::move(declared.check_alerting)),
      check_pricing_(std::move(declared.check_pricing)),
      config_pricing_(std::move(declared.pricing)) {
  std::lock_guard lock(mu_);
  for (const auto& [workspace, slugs] : declared.projects) {
    for (const std::string& slug : slugs) projects_[workspace][slug] = ProjectRecord{slug, slug, {}, 0, true};
  }
  RebuildRingLocked();
  RebuildSlugsLocked();
}

Status LiveSettings::Check(const SettingsChange& c) const {
  std::lock_guard lock(mu_);
  return CheckLocked(c);
}

Status LiveSettings::CheckLocked(const SettingsChange& c) const {
  if (c.workspace.empty()) return InvalidArgument("the change names no workspace");
  if (c.action == SettingsAction::kPricingPut) return check_pricing_ ? check_pricing_(c) : Status::Ok();
  if (IsBudgetAction(c.action)) return CheckBudgetLocked(c);
  if (IsAlertingAction(c.action)) return CheckPlanOrRoutesLocked(c);
  return IsProjectAction(c.action) ? CheckProjectLocked(c) : CheckKeyLocked(c);
}

Status LiveSettings::CheckBudgetLocked(const SettingsChange& c) const {
  const BudgetRecord& b = c.budget;
  if (!IsSlug(b.id)) return InvalidArgument("a budget id must be 1-64 of a-z, 0-9, '.', '_', '-' (starting with a letter or digit)");
  if (auto declared = config_budgets_.find(c.workspace); declared != config_budgets_.end()) {
    for (const std::string& id : declared->second) {
      if (id == b.id) return FailedPrecondition("budget " + b.id + " is declared in the config file; change it there");
    }
  }
  if (c.action == SettingsAction::kBudgetDelete) {
    auto ws = budgets_.find(c.workspace);
    if (ws == budgets_.end() || !ws->second.contains(b.id)) return NotFound("no budget " + b.id + " in this workspace");
    return Status::Ok();
  }
  return check_alerting_ ? check_alerting_(c) : Status::Ok();
}

Status LiveSettings::CheckPlanOrRoutesLocked(const SettingsChange& c) const {
  if (c.action == SettingsAction::kRoutesPut) return check_alerting_ ? check_alerting_(c) : Status::Ok();
  if (config_plans_.contains(c.workspace)) {
    return FailedPrecondition("the plan limit of workspace " + c.workspace + " is declared in the config file; change it there");
  }
  if (c.action == SettingsAction::kPlanDelete) {
    if (!plans_.contains(c.workspace)) return NotFound("workspace " + c.workspace + " has no plan limit");
    return Status::Ok();
  }
  if (c.plan_requests_per_month <= 0) return InvalidArgument("requests_per_month must be > 0");
  return Status::Ok();
}

Status LiveSettings::CheckProjectLocked(const SettingsChange& c) const {
  const ProjectRecord& p = c.project;
  if (!IsSlug(p.slug)) return InvalidArgument("slug must be 1-64 of a-z, 0-9, '.', '_', '-' (starting with a letter or digit)");
  if (p.name.size() > 128) return InvalidArgument("name must be at most 128 bytes");
  std::unordered_set<std::string> seen;
  for (const std::string& e : p.environments) {
    if (!IsSlug(e)) return InvalidArgument("environment \"" + e + "\" must be 1-64 of a-z, 0-9, '.', '_', '-'");
    if (!seen.insert(e).second) return InvalidArgument("environment \"" + e + "\" is listed twice");
  }
  const ProjectRecord* now = nullptr;
  if (auto ws = projects_.find(c.workspace); ws != projects_.end()) {
    if (auto it = ws->second.find(p.slug); it != ws->second.end()) now = &it->second;
  }
  if (c.action == SettingsAction::kProjectCreate) {
    if (now) return FailedPrecondition("project " + p.slug + " exists");
    return Status::Ok();
  }
  if (!now) return NotFound("no project " + p.slug + " in this workspace");
  if (now->from_config) return FailedPrecondition("project " + p.slug + " is declared in the config file; change it there");
  if (p.created_ms != now->created_ms) return InvalidArgument("a project.update keeps the project's creation time");
  return Status::Ok();
}

Status LiveSettings::CheckKeyLocked(const SettingsChange& c) const {
  const KeyRecord& k = c.key;
  if (c.workspace.empty() || k.workspace != c.workspace) return InvalidArgument("the change names no workspace");
  // One malformed record would make the whole key ring refuse every later set.
  RETURN_IF_ERROR(CheckKeyRecord(k));
  const auto declared = std::find_if(config_keys_.begin(), config_keys_.end(),
                                     [&](const KeyRecord& r) { return r.id == k.id; });
  if (declared != config_keys_.end()) {
    return FailedPrecondition("key " + k.id + " is declared in the config file; change it there");
  }
  auto it = api_keys_.find(k.id);
  if (c.action == SettingsAction::kKeyCreate) {
    if (it != api_keys_.end()) return FailedPrecondition("key " + k.id + " exists");
    if (k.revoked || !k.previous_sha256.empty()) return InvalidArgument("a new key is neither revoked nor rotated");
    if (k.env != "live" && k.env != "test") return InvalidArgument("env must be live or test");
    if (k.events_per_second < 0 || k.burst_events < 0) return InvalidArgument("rate limits must not be negative");
    return Status::Ok();
  }
  if (it == api_keys_.end() || it->second.workspace != c.workspace) return NotFound("no key " + k.id + " in this workspace");
  const KeyRecord& now = it->second;
  if (now.revoked) return FailedPrecondition("key " + k.id + " is revoked");
  // Everything but the secret (and, for a revocation, the flag) stays as it was.
  KeyRecord same = k;
  same.sha256 = now.sha256;
  same.previous_sha256 = now.previous_sha256;
  same.previous_until_ms = now.previous_until_ms;
  same.revoked = false;
  if (same.role != now.role || same.owner != now.owner || same.env != now.env || same.created_ms != now.created_ms ||
      same.project != now.project || same.environment != now.environment || same.name != now.name) {
    return InvalidArgument("a " + std::string(SettingsActionName(c.action)) + " changes only the key's secret or state");
  }
  if (c.action == SettingsAction::kKeyRotate) {
    if (k.revoked || k.sha256 == now.sha256) return InvalidArgument("a rotation sets a new secret");
    if (k.previous_sha256 != now.sha256) return InvalidArgument("a rotation keeps the old secret as the previous one");
    return Status::Ok();
  }
  if (!k.revoked || k.sha256 != now.sha256) return InvalidArgument("a revocation only revokes");
  if (now.role == Role::kOwner) {
    size_t owners = 0;
    for (const KeyRecord& r : config_keys_) owners += r.workspace == c.workspace && ActiveOwner(r);
    for (const auto& [id, r] : api_keys_) owners += r.workspace == c.workspace && ActiveOwner(r);
    if (owners <= 1) return FailedPrecondition("key " + k.id + " is the workspace's last owner key");
  }
  return Status::Ok();
}

void LiveSettings::Apply(int partition, int64_t offset, const SettingsChange& c) {
  std::vector<std::pair<Waiter, AuditEntry>> answered;
  bool applied = false;
  {
    std::lock_guard lock(mu_);
    const bool project = IsProjectAction(c.action);
    const bool pricing = c.action == SettingsAction::kPricingPut;
    const std::string& target = IsBudgetAction(c.action)               ? c.budget.id
                                : IsAlertingAction(c.action) || pricing ? c.workspace
                                : project                    ? c.project.slug
                                                             : c.key.id;
    AuditEntry e{partition, offset, c.id, c.workspace, c.actor, c.at_ms, c.action, target, ""};
    if (Status s = CheckLocked(c); !s.ok()) {
      e.refused = s.message();
    } else if (c.action == SettingsAction::kPlanPut) {
      plans_[c.workspace] = c.plan_requests_per_month;
    } else if (c.action == SettingsAction::kPlanDelete) {
      plans_.erase(c.workspace);
    } else if (c.action == SettingsAction::kRoutesPut) {
      routes_[c.workspace] = c.routes;
    } else if (pricing) {
      if (c.price_overrides.empty() && c.model_aliases.empty()) {
        pricing_.erase(c.workspace);
      } else {
        pricing_[c.workspace] = Pricing{c.price_overrides, c.model_aliases};
      }
    } else if (c.action == SettingsAction::kBudgetPut) {
      budgets_[c.workspace][c.budget.id] = c.budget;
    } else if (c.action == SettingsAction::kBudgetDelete) {
      budgets_[c.workspace].erase(c.budget.id);
    } else if (project) {
      projects_[c.workspace][c.project.slug] = c.project;
      RebuildSlugsLocked();
    } else {
      api_keys_[c.key.id] = c.key;
      RebuildRingLocked();
    }
    Log(e.refused.empty() ? LogLevel::kInfo : LogLevel::kWarn, "settings",
        e.refused.empty() ? "change_applied" : "change_refused",
        {{"change_id", c.id}, {"workspace", c.workspace}, {"action", std::string(SettingsActionName(c.action))},
         {"target", e.target}, {"actor", c.actor}, {"offset", std::to_string(offset)}, {"refused", e.refused}});
    applied = e.refused.empty();
    audit_.push_back(e);
    next_[partition] = offset + 1;
    auto& waiting = waiting_[partition];
    for (auto w = waiting.begin(); w != waiting.end();) {
      if (w->offset == offset) {
        answered.emplace_back(std::move(w->done), e);
        w = waiting.erase(w);
      } else {
        ++w;
      }
    }
  }
  if (applied && on_applied_) on_applied_(c);
  for (auto& [done, entry] : answered) done(entry);
}

void LiveSettings::Unreadable(int partition, int64_t offset, const std::string& why) {
  SettingsChange none;
  none.id = "(unreadable)";
  AuditEntry e{partition, offset, none.id, "", "", 0, SettingsAction::kKeyCreate, "", why};
  std::vector<Waiter> answered;
  {
    std::lock_guard lock(mu_);
    next_[partition] = offset + 1;
    auto& waiting = waiting_[partition];
    for (auto w = waiting.begin(); w != waiting.end();) {
      if (w->offset == offset) {
        answered.push_back(std::move(w->done));
        w = waiting.erase(w);
      } else {
        ++w;
      }
    }
  }
  for (auto& done : answered) done(e);
}

void LiveSettings::RebuildRingLocked() {
  std::vector<KeyRecord> all = config_keys_;
  for (const auto& [id, k] : api_keys_) all.push_back(k);
  // Every change was checked, so the set is valid; a failure would leave the old set.
  if (Status s = ring_.Replace(std::move(all)); !s.ok()) {
    Log(LogLevel::kError, "settings", "key_ring_refused", {{"error", s.ToString()}});
  }
}

void LiveSettings::RebuildSlugsLocked() {
  auto slugs = std::make_shared<ProjectSlugs>();
  for (const auto& [workspace, projects] : projects_) {
    auto& set = (*slugs)[workspace];
    for (const auto& [slug, p] : projects) set.insert(slug);
  }
  std::unique_lock lock(slugs_mu_);
  slugs_ = std::move(slugs);
}

std::shared_ptr<const LiveSettings::ProjectSlugs> LiveSettings::Slugs() const {
  std::shared_lock lock(slugs_mu_);
  return slugs_;
}

std::vector<ProjectRecord> LiveSettings::Projects(const std::string& workspace) const {
  std::lock_guard lock(mu_);
  std::vector<ProjectRecord> out;
  if (auto ws = projects_.find(workspace); ws != projects_.end()) {
    for (const auto& [slug, p] : ws->second) out.push_back(p);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProjectRecord& a, const ProjectRecord& b) {
    if (a.from_config != b.from_config) return a.from_config;  // the config file's first
    return std::tie(a.created_ms, a.slug) < std::tie(b.created_ms, b.slug);
  });
  return out;
}

std::vector<KeyRecord> LiveSettings::Keys(const std::string& workspace) const {
  std::lock_guard lock(mu_);
  std::vector<KeyRecord> out;
  for (const KeyRecord& k : config_keys_) {
    if (k.workspace == workspace) out.push_back(k);
  }
  for (const auto& [id, k] : api_keys_) {
    if (k.workspace == workspace) out.push_back(k);
  }
  std::stable_sort(out.begin(), out.end(), [](const KeyRecord& a, const KeyRecord& b) {
    return std::tie(a.created_ms, a.id) < std::tie(b.created_ms, b.id);
  });
  return out;
}

std::vector<BudgetRecord> LiveSettings::Budgets(const std::string& workspace) const {
  std::lock_guard lock(mu_);
  std::vector<BudgetRecord> out;
  if (auto ws = budgets_.find(workspace); ws != budgets_.end()) {
    for (const auto& [id, b] : ws->second) out.push_back(b);
  }
  return out;
}

std::vector<std::string> LiveSettings::ConfigBudgetIds(const std::string& workspace) const {
  std::lock_guard lock(mu_);
  auto it = config_budgets_.find(workspace);
  return it == config_budgets_.end() ? std::vector<std::string>{} : it->second;
}

std::map<std::string, int64_t> LiveSettings::AllPlans() const {
  std::lock_guard lock(mu_);
  return plans_;
}

std::map<std::string, std::vector<RouteRecord>> LiveSettings::AllRoutes() const {
  std::lock_guard lock(mu_);
  return routes_;
}

std::map<std::string, LiveSettings::Pricing> LiveSettings::AllPricing() const {
  std::lock_guard lock(mu_);
  return pricing_;
}

LiveSettings::Pricing LiveSettings::ConfigPricing(const std::string& workspace) const {
  auto it = config_pricing_.find(workspace);  // fixed at construction
  return it == config_pricing_.end() ? Pricing{} : it->second;
}

std::map<std::string, std::vector<BudgetRecord>> LiveSettings::AllBudgets() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::vector<BudgetRecord>> out;
  for (const auto& [ws, budgets] : budgets_) {
    for (const auto& [id, b] : budgets) out[ws].push_back(b);
  }
  return out;
}

std::vector<AuditEntry> LiveSettings::Audit(const std::string& workspace, size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  for (auto it = audit_.rbegin(); it != audit_.rend() && out.size() < limit; ++it) {
    if (it->workspace == workspace) out.push_back(*it);
  }
  return out;
}

void LiveSettings::WhenApplied(int partition, int64_t offset, std::chrono::steady_clock::time_point deadline,
                               Waiter done) {
  std::optional<AuditEntry> applied;
  {
    std::lock_guard lock(mu_);
    auto next = next_.find(partition);
    if (next == next_.end() || next->second <= offset) {
      waiting_[partition].push_back({offset, deadline, std::move(done)});
      return;
    }
    for (auto it = audit_.rbegin(); it != audit_.rend(); ++it) {
      if (it->partition == partition && it->offset == offset) {
        applied = *it;
        break;
      }
    }
  }
  done(applied);
}

void LiveSettings::ExpireWaiters(std::chrono::steady_clock::time_point now) {
  std::vector<Waiter> expired;
  {
    std::lock_guard lock(mu_);
    for (auto& [partition, waiting] : waiting_) {
      for (auto w = waiting.begin(); w != waiting.end();) {
        if (w->deadline <= now) {
          expired.push_back(std::move(w->done));
          w = waiting.erase(w);
        } else {
          ++w;
        }
      }
    }
  }
  for (auto& done : expired) done(std::nullopt);
}

}  // namespace tokenmeter
