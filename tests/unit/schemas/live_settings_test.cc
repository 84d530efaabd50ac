// Settings changes: the record's codec, and the rules every process applies them by.
#include "tokenmeter/settings/live_settings.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

using Steady = std::chrono::steady_clock;

SettingsChange KeyChange(std::string id, std::string ws, std::string actor, int64_t at, SettingsAction action,
                         KeyRecord key) {
  SettingsChange c;
  c.id = std::move(id);
  c.workspace = std::move(ws);
  c.actor = std::move(actor);
  c.at_ms = at;
  c.action = action;
  c.key = std::move(key);
  return c;
}

class LiveSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = *CreateApiKey("live", "acme", Role::kOwner);
    owner_.record.from_config = true;
    LiveSettings::Declared declared;
    declared.keys = {owner_.record};
    declared.projects = {{"acme", {"shop"}}};
    declared.budgets = {{"acme", {"monthly"}}};
    declared.plans = {"globex"};
    declared.check_alerting = [](const SettingsChange& c) {
      if (c.action == SettingsAction::kRoutesPut) {
        return c.routes.size() == 1 && c.routes[0].sink == "hook" ? Status::Ok() : InvalidArgument("no such sink");
      }
      return c.budget.amount_usd == "0" ? InvalidArgument("amount_usd must be a positive decimal USD amount, e.g. \"500\"")
                                        : Status::Ok();
    };
    settings_ = std::make_unique<LiveSettings>(std::move(declared), ring_);
  }
  SettingsChange Create(Role role, const std::string& ws = "acme") {
    NewKey k = *CreateApiKey("live", ws, role);
    keys_[k.record.id] = k.key;
    SettingsChange c = KeyChange(NewChangeId(), ws, owner_.record.id, 1000, SettingsAction::kKeyCreate, k.record);
    c.key.owner = k.record.id;
    c.key.created_ms = 1000;
    return c;
  }
  // Applies at the next offset of partition 0; returns why it was refused ("" if applied).
  std::string Apply(const SettingsChange& c) {
    settings_->Apply(0, next_++, c);
    return settings_->Audit(c.workspace, 1).at(0).refused;
  }
  bool Opens(const std::string& key, int64_t now_ms = 0) {
    KeyRejection why;
    return ring_.Verify(key, why, now_ms) != nullptr;
  }

  KeyRing ring_;
  NewKey owner_;
  std::unique_ptr<LiveSettings> settings_;
  std::map<std::string, std::string> keys_;
  int64_t next_ = 0;
};

TEST_F(LiveSettingsTest, TheCodecRoundTripsAndRefusesAnotherFormat) {
  SettingsChange c = Create(Role::kIngest);
  c.key.name = "web \"app\"";
  c.key.project = "chat";
  c.key.events_per_second = 12.5;
  Result<SettingsChange> back = DecodeSettingsChange(EncodeSettingsChange(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(back->actor, owner_.record.id);
  EXPECT_EQ(back->key.sha256, c.key.sha256);
  EXPECT_EQ(back->key.name, "web \"app\"");
  EXPECT_EQ(back->key.events_per_second, 12.5);
  EXPECT_EQ(back->key.workspace, "acme");
  EXPECT_EQ(EncodeSettingsChange(c).find(keys_[c.key.id]), std::string::npos);  // never the secret
  std::string other = EncodeSettingsChange(c);
  other.replace(other.find("\"format\":1"), 10, "\"format\":2");
  EXPECT_EQ(DecodeSettingsChange(other).status().message(),
            "settings change format 2 is not 1 (written by another build)");
  EXPECT_FALSE(DecodeSettingsChange("not json").ok());
  // A number with more digits than a double holds reads back as the same double once
  // re-encoded (found by the settings_change fuzz target: RapidJSON's default parser read
  // "-7717.3144444444444446666100" and its %.17g text as different doubles).
  std::string many = EncodeSettingsChange(c);
  many.replace(many.find("\"burstEvents\":0"), 15, "\"burstEvents\":-7717.3144444444444446666100");
  Result<SettingsChange> first = DecodeSettingsChange(many);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<SettingsChange> second = DecodeSettingsChange(EncodeSettingsChange(*first));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->key.burst_events, first->key.burst_events);
  EXPECT_EQ(EncodeSettingsChange(*second), EncodeSettingsChange(*first));
}

TEST_F(LiveSettingsTest, ACreatedKeyOpensOnceApplied) {
  SettingsChange c = Create(Role::kIngest);
  EXPECT_FALSE(Opens(keys_[c.key.id]));
  EXPECT_TRUE(settings_->Check(c).ok());
  EXPECT_EQ(Apply(c), "");
  EXPECT_TRUE(Opens(keys_[c.key.id]));
  EXPECT_TRUE(Opens(owner_.key));  // the config file's keys stay
  ASSERT_EQ(settings_->Keys("acme").size(), 2u);
  EXPECT_EQ(Apply(c), "key " + c.key.id + " exists");  // the same change again is refused
}

// A record the key ring could not take (damaged, or not written by tokenmeter) is refused
// and audited; the ring still takes every later change (found by fuzz_settings_change: the
// record was applied, and from then on the ring refused every set holding it).
TEST_F(LiveSettingsTest, AKeyRecordTheRingCannotTakeIsRefusedAndLaterKeysStillOpen) {
  SettingsChange bad = Create(Role::kIngest);
  bad.key.sha256 = "abc";
  EXPECT_EQ(Apply(bad), "key " + bad.key.id + ": sha256 must be 64 hex characters");
  SettingsChange bad_id = Create(Role::kIngest);
  bad_id.key.id = "short";
  EXPECT_EQ(Apply(bad_id), "key id \"short\" must be 12 base62 characters");
  SettingsChange good = Create(Role::kIngest);
  EXPECT_EQ(Apply(good), "");
  EXPECT_TRUE(Opens(keys_[good.key.id]));
  EXPECT_TRUE(Opens(owner_.key));
  EXPECT_EQ(settings_->Keys("acme").size(), 2u);
}

TEST_F(LiveSettingsTest, RotationAndRevocationChangeOnlyTheSecretOrTheFlag) {
  SettingsChange c = Create(Role::kIngest);
  ASSERT_EQ(Apply(c), "");
  NewKey rotated = *RotateApiKey(c.key);
  SettingsChange rot = KeyChange(NewChangeId(), "acme", owner_.record.id, 2000, SettingsAction::kKeyRotate, rotated.record);
  rot.key.previous_sha256 = c.key.sha256;
  rot.key.previous_until_ms = 5000;
  SettingsChange sneaky = rot;
  sneaky.key.role = Role::kOwner;
  EXPECT_EQ(Apply(sneaky), "a key.rotate changes only the key's secret or state");
  EXPECT_EQ(Apply(rot), "");
  EXPECT_TRUE(Opens(rotated.key, 4999));
  EXPECT_TRUE(Opens(keys_[c.key.id], 4999));
  EXPECT_FALSE(Opens(keys_[c.key.id], 5000));
  SettingsChange revoke = KeyChange(NewChangeId(), "acme", owner_.record.id, 3000, SettingsAction::kKeyRevoke, rot.key);
  revoke.key.revoked = true;
  EXPECT_EQ(Apply(revoke), "");
  EXPECT_FALSE(Opens(rotated.key, 4000));
  EXPECT_EQ(Apply(revoke), "key " + c.key.id + " is revoked");
}

TEST_F(LiveSettingsTest, TheConfigFilesKeysAndTheLastOwnerAreKept) {
  SettingsChange declared = KeyChange(NewChangeId(), "acme", owner_.record.id, 1000, SettingsAction::kKeyRevoke, owner_.record);
  declared.key.revoked = true;
  EXPECT_EQ(Apply(declared), "key " + owner_.record.id + " is declared in the config file; change it there");
  // Two API owners: one may go, the last may not... while the config file's owner counts.
  SettingsChange o1 = Create(Role::kOwner);
  ASSERT_EQ(Apply(o1), "");
  SettingsChange revoke = KeyChange(NewChangeId(), "acme", owner_.record.id, 2000, SettingsAction::kKeyRevoke, o1.key);
  revoke.key.revoked = true;
  EXPECT_EQ(Apply(revoke), "");
  // In a workspace of API keys only, its last owner stays.
  SettingsChange o2 = Create(Role::kOwner, "globex");
  ASSERT_EQ(Apply(o2), "");
  SettingsChange last = KeyChange(NewChangeId(), "globex", o2.key.id, 3000, SettingsAction::kKeyRevoke, o2.key);
  last.key.revoked = true;
  EXPECT_EQ(Apply(last), "key " + o2.key.id + " is the workspace's last owner key");
  EXPECT_TRUE(Opens(keys_[o2.key.id]));
  // Another workspace's key is not found from this one.
  SettingsChange foreign = last;
  foreign.workspace = "acme";
  foreign.key.workspace = "acme";
  EXPECT_EQ(Apply(foreign), "no key " + o2.key.id + " in this workspace");
}

TEST_F(LiveSettingsTest, TheAuditTrailIsPerWorkspaceNewestFirst) {
  SettingsChange a = Create(Role::kIngest), b = Create(Role::kMember), g = Create(Role::kIngest, "globex");
  Apply(a);
  Apply(g);
  Apply(b);
  Apply(a);  // refused: exists
  std::vector<AuditEntry> audit = settings_->Audit("acme", 10);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].target, a.key.id);
  EXPECT_EQ(audit[0].refused, "key " + a.key.id + " exists");
  EXPECT_EQ(audit[1].target, b.key.id);
  EXPECT_EQ(audit[1].refused, "");
  EXPECT_EQ(audit[2].change_id, a.id);
  EXPECT_EQ(audit[2].actor, owner_.record.id);
  EXPECT_EQ(settings_->Audit("acme", 1).size(), 1u);
  EXPECT_EQ(settings_->Audit("globex", 10).size(), 1u);
}

TEST_F(LiveSettingsTest, ProjectsKeepTheirSlugAndJoinTheConfigFilesAtOnce) {
  auto project = [](SettingsAction action, const std::string& slug, std::vector<std::string> envs, int64_t created) {
    SettingsChange c;
    c.id = NewChangeId();
    c.workspace = "acme";
    c.actor = "someone";
    c.action = action;
    c.project = ProjectRecord{slug, slug + " name", std::move(envs), created, false};
    return c;
  };
  EXPECT_EQ(settings_->Slugs()->at("acme"), (std::unordered_set<std::string>{"shop"}));
  std::shared_ptr<const LiveSettings::ProjectSlugs> before = settings_->Slugs();
  EXPECT_EQ(Apply(project(SettingsAction::kProjectCreate, "chat", {"prod", "staging"}, 1000)), "");
  EXPECT_EQ(settings_->Slugs()->at("acme"), (std::unordered_set<std::string>{"shop", "chat"}));
  EXPECT_EQ(before->at("acme").size(), 1u);  // a snapshot held stays as it was
  EXPECT_EQ(Apply(project(SettingsAction::kProjectCreate, "chat", {}, 2000)), "project chat exists");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectCreate, "shop", {}, 2000)), "project shop exists");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectCreate, "Bad Slug", {}, 2000)),
            "slug must be 1-64 of a-z, 0-9, '.', '_', '-' (starting with a letter or digit)");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectCreate, "ok", {"prod", "prod"}, 2000)),
            "environment \"prod\" is listed twice");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectUpdate, "shop", {}, 0)),
            "project shop is declared in the config file; change it there");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectUpdate, "nope", {}, 0)), "no project nope in this workspace");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectUpdate, "chat", {"prod"}, 999)),
            "a project.update keeps the project's creation time");
  EXPECT_EQ(Apply(project(SettingsAction::kProjectUpdate, "chat", {"prod", "eu"}, 1000)), "");
  std::vector<ProjectRecord> listed = settings_->Projects("acme");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].slug, "shop");
  EXPECT_TRUE(listed[0].from_config);
  EXPECT_EQ(listed[1].environments, (std::vector<std::string>{"prod", "eu"}));
  // Its record round-trips.
  SettingsChange c = project(SettingsAction::kProjectUpdate, "chat", {"prod", "eu"}, 1000);
  Result<SettingsChange> back = DecodeSettingsChange(EncodeSettingsChange(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->action, SettingsAction::kProjectUpdate);
  EXPECT_EQ(back->project.name, "chat name");
  EXPECT_EQ(back->project.environments, c.project.environments);
  EXPECT_EQ(back->project.created_ms, 1000);
}

TEST_F(LiveSettingsTest, BudgetsFollowTheirOwnRulesAndTheConfigFilesStayReadOnly) {
  std::vector<std::string> heard;
  settings_->OnApplied([&heard](const SettingsChange& c) { heard.push_back(std::string(SettingsActionName(c.action))); });
  auto budget = [](SettingsAction action, const std::string& id, const std::string& amount) {
    SettingsChange c;
    c.id = NewChangeId();
    c.workspace = "acme";
    c.action = action;
    c.budget.id = id;
    c.budget.amount_usd = amount;
    return c;
  };
  EXPECT_EQ(Apply(budget(SettingsAction::kBudgetPut, "monthly", "5")),
            "budget monthly is declared in the config file; change it there");
  EXPECT_EQ(Apply(budget(SettingsAction::kBudgetPut, "team", "0")),
            "amount_usd must be a positive decimal USD amount, e.g. \"500\"");
  EXPECT_EQ(Apply(budget(SettingsAction::kBudgetDelete, "team", "")), "no budget team in this workspace");
  EXPECT_TRUE(heard.empty());  // refused changes are not announced
  EXPECT_EQ(Apply(budget(SettingsAction::kBudgetPut, "team", "5")), "");
  EXPECT_EQ(Apply(budget(SettingsAction::kBudgetPut, "team", "2.5")), "");
  ASSERT_EQ(settings_->Budgets("acme").size(), 1u);
  EXPECT_EQ(settings_->Budgets("acme")[0].amount_usd, "2.5");
  EXPECT_EQ(settings_->AllBudgets().at("acme").size(), 1u);
  EXPECT_EQ(Apply(budget(SettingsAction::kBudgetDelete, "team", "")), "");
  EXPECT_TRUE(settings_->Budgets("acme").empty());
  EXPECT_EQ(heard, (std::vector<std::string>{"budget.put", "budget.put", "budget.delete"}));
  // Its record round-trips.
  SettingsChange c = budget(SettingsAction::kBudgetPut, "team", "12.50");
  c.budget.thresholds = {"0.5", "0.9"};
  c.budget.data_modes = {"real", "test"};
  c.budget.endpoint_tag = "support.reply";
  Result<SettingsChange> back = DecodeSettingsChange(EncodeSettingsChange(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->budget.amount_usd, "12.50");
  EXPECT_EQ(back->budget.thresholds, c.budget.thresholds);
  EXPECT_EQ(back->budget.data_modes, c.budget.data_modes);
  EXPECT_EQ(back->budget.endpoint_tag, "support.reply");
}

TEST_F(LiveSettingsTest, PlanLimitsAndRoutesAreTheWorkspacesUnlessTheConfigFileSaysSo) {
  auto change = [](SettingsAction action, const std::string& ws, int64_t requests, std::vector<RouteRecord> routes) {
    SettingsChange c;
    c.id = NewChangeId();
    c.workspace = ws;
    c.action = action;
    c.plan_requests_per_month = requests;
    c.routes = std::move(routes);
    return c;
  };
  EXPECT_EQ(Apply(change(SettingsAction::kPlanPut, "globex", 10, {})),
            "the plan limit of workspace globex is declared in the config file; change it there");
  EXPECT_EQ(Apply(change(SettingsAction::kPlanPut, "acme", 0, {})), "requests_per_month must be > 0");
  EXPECT_EQ(Apply(change(SettingsAction::kPlanDelete, "acme", 0, {})), "workspace acme has no plan limit");
  EXPECT_EQ(Apply(change(SettingsAction::kPlanPut, "acme", 500, {})), "");
  EXPECT_EQ(settings_->AllPlans(), (std::map<std::string, int64_t>{{"acme", 500}}));
  EXPECT_EQ(settings_->Audit("acme", 1)[0].target, "acme");
  EXPECT_EQ(Apply(change(SettingsAction::kPlanDelete, "acme", 0, {})), "");
  EXPECT_TRUE(settings_->AllPlans().empty());
  EXPECT_EQ(Apply(change(SettingsAction::kRoutesPut, "acme", 0, {{"nowhere", {}}})), "no such sink");
  EXPECT_EQ(Apply(change(SettingsAction::kRoutesPut, "acme", 0, {{"hook", {"budget_exceeded"}}})), "");
  ASSERT_EQ(settings_->AllRoutes().at("acme").size(), 1u);
  EXPECT_EQ(settings_->AllRoutes().at("acme")[0].types, std::vector<std::string>{"budget_exceeded"});
  // Their records round-trip.
  for (const SettingsChange& c : {change(SettingsAction::kPlanPut, "acme", 7, {}),
                                  change(SettingsAction::kRoutesPut, "acme", 0, {{"hook", {"a", "b"}}, {"mail", {}}})}) {
    Result<SettingsChange> back = DecodeSettingsChange(EncodeSettingsChange(c));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(EncodeSettingsChange(*back), EncodeSettingsChange(c));
  }
}

// A pricing.put replaces the workspace's API pricing whole (an empty one removes it); the
// processors' rules decide, and the config file's pricing is kept apart for the export.
TEST_F(LiveSettingsTest, PricingIsReplacedWholeByTheRulesGiven) {
  LiveSettings::Declared declared;
  declared.keys = {owner_.record};
  declared.pricing["acme"].aliases = {{"azure_openai", "prod-gpt", "gpt-4o"}};
  declared.check_pricing = [](const SettingsChange& c) {
    for (const PriceOverrideRecord& o : c.price_overrides) {
      if (o.input == "x") return InvalidArgument("overrides[0]: input_usd_per_mtok must be a decimal USD amount");
    }
    return Status::Ok();
  };
  settings_ = std::make_unique<LiveSettings>(std::move(declared), ring_);
  auto pricing = [](std::vector<PriceOverrideRecord> overrides, std::vector<ModelAliasRecord> aliases) {
    SettingsChange c;
    c.id = NewChangeId();
    c.workspace = "acme";
    c.action = SettingsAction::kPricingPut;
    c.price_overrides = std::move(overrides);
    c.model_aliases = std::move(aliases);
    return c;
  };
  PriceOverrideRecord negotiated{"openai", "gpt-4o", "2026-01-01T00:00:00Z", "2.00", "8.00", "", "", "", ""};
  EXPECT_EQ(Apply(pricing({{"openai", "gpt-4o", "", "x", "", "", "", "", ""}}, {})),
            "overrides[0]: input_usd_per_mtok must be a decimal USD amount");
  EXPECT_TRUE(settings_->AllPricing().empty());
  EXPECT_EQ(Apply(pricing({negotiated}, {{"openai", "chat-model", "gpt-4o-mini"}})), "");
  EXPECT_EQ(settings_->Audit("acme", 1)[0].target, "acme");
  ASSERT_EQ(settings_->AllPricing().size(), 1u);
  EXPECT_EQ(settings_->AllPricing().at("acme").overrides, std::vector<PriceOverrideRecord>{negotiated});
  EXPECT_EQ(Apply(pricing({}, {{"openai", "other", "gpt-4.1"}})), "");
  EXPECT_TRUE(settings_->AllPricing().at("acme").overrides.empty()) << "replaced whole";
  EXPECT_EQ(settings_->AllPricing().at("acme").aliases.size(), 1u);
  EXPECT_EQ(settings_->ConfigPricing("acme").aliases[0].name, "prod-gpt");
  EXPECT_EQ(Apply(pricing({}, {})), "");
  EXPECT_TRUE(settings_->AllPricing().empty()) << "an empty set removes the workspace's";
  // The record round-trips; unknown members are refused.
  SettingsChange c = pricing({negotiated}, {{"openai", "chat-model", "gpt-4o-mini"}});
  Result<SettingsChange> back = DecodeSettingsChange(EncodeSettingsChange(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->price_overrides, c.price_overrides);
  EXPECT_EQ(back->model_aliases, c.model_aliases);
  std::string odd = EncodeSettingsChange(c);
  odd.replace(odd.find("\"effectiveFrom\""), 15, "\"effectiveDate\"");
  EXPECT_EQ(DecodeSettingsChange(odd).status().message(), "overrides: unknown member \"effectiveDate\"");
}

TEST_F(LiveSettingsTest, WaitersHearOfTheirRecordOrTheDeadline) {
  std::vector<std::string> heard;
  auto waiter = [&heard](const std::string& name) {
    return [&heard, name](std::optional<AuditEntry> e) { heard.push_back(name + (e ? ":" + e->refused : ":none")); };
  };
  const auto t = Steady::now();
  settings_->WhenApplied(0, 0, t + std::chrono::seconds(5), waiter("first"));
  settings_->WhenApplied(0, 1, t + std::chrono::seconds(1), waiter("second"));
  SettingsChange c = Create(Role::kIngest);
  Apply(c);
  EXPECT_EQ(heard, std::vector<std::string>{"first:"});
  settings_->ExpireWaiters(t + std::chrono::seconds(2));
  EXPECT_EQ(heard, (std::vector<std::string>{"first:", "second:none"}));
  settings_->WhenApplied(0, 0, t, waiter("late"));  // already applied: at once
  EXPECT_EQ(heard.back(), "late:");
  settings_->Unreadable(0, 1, "not a change");
  settings_->WhenApplied(0, 1, t, waiter("unreadable"));
  EXPECT_EQ(heard.back(), "unreadable:none");
}

}  // namespace
}  // namespace tokenmeter
