// The YAML config: defaults, strictness (unknown keys name key and line), env secrets.
#include "config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace tokenmeter {
namespace {

TEST(ConfigFileTest, MinimalConfigGetsTheDocumentedDefaults) {
  Result<AppConfig> c = LoadConfigText("bus:\n  kafka:\n    bootstrap_servers: 127.0.0.1:9092\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.address, "127.0.0.1");
  EXPECT_EQ(c->http.port, 8081);
  EXPECT_EQ(c->http.max_body_bytes, 1u << 20);
  EXPECT_EQ(c->edge.limits.max_events_per_request, 1000u);
  EXPECT_EQ(c->edge.limits.max_json_depth, 16);
  EXPECT_EQ(c->kafka.topic, "tokenmeter.events");
  EXPECT_EQ(c->kafka.delivery_timeout_ms, 5000);
  EXPECT_EQ(c->kafka.linger_ms, 0.5);
  EXPECT_EQ(c->drain_timeout_ms, 10000);
}

TEST(ConfigFileTest, EverySectionParses) {
  Result<AppConfig> c = LoadConfigText(R"(
edge:
  listen: 0.0.0.0:9000
  threads: 4
  handler_deadline_ms: 3000
  key_events_per_second: 50
ingest:
  max_body_bytes: 65536
  max_future_skew_s: 60
bus:
  kafka:
    bootstrap_servers: a:1,b:2
    topic: custom.events
    linger_ms: 0.25
    properties:
      socket.timeout.ms: "1234"
workspaces:
  - id: acme
    projects: [support, billing]
    strict_projects: true
    events_per_second: 10
keys:
  - id: AAAAAAAAAAAA
    prefix: tm_live_AAAAAAAAAAAA...abcd
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
    workspace: acme
    role: member
    environment: staging
    revoked: true
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.address, "0.0.0.0");
  EXPECT_EQ(c->http.port, 9000);
  EXPECT_EQ(c->http.threads, 4);
  EXPECT_EQ(c->http.handler_deadline_ms, 3000);
  EXPECT_EQ(c->http.max_body_bytes, 65536u);
  EXPECT_EQ(c->edge.key_events_per_second, 50);
  EXPECT_EQ(c->edge.limits.max_future_skew, std::chrono::seconds(60));
  EXPECT_EQ(c->kafka.bootstrap_servers, "a:1,b:2");
  EXPECT_EQ(c->kafka.topic, "custom.events");
  EXPECT_EQ(c->kafka.linger_ms, 0.25);
  EXPECT_EQ(c->kafka.properties.at("socket.timeout.ms"), "1234");
  ASSERT_EQ(c->edge.workspaces.size(), 1u);
  EXPECT_EQ(c->edge.workspaces[0].projects, (std::vector<std::string>{"support", "billing"}));
  EXPECT_TRUE(c->edge.workspaces[0].strict_projects);
  ASSERT_EQ(c->keys.size(), 1u);
  EXPECT_EQ(c->keys[0].role, Role::kMember);
  EXPECT_EQ(c->keys[0].environment, "staging");
  EXPECT_TRUE(c->keys[0].revoked);
}

TEST(ConfigFileTest, ProcessorSectionParsesWithDefaults) {
  Result<AppConfig> c = LoadConfigText("processor:\n  state_dir: /var/lib/tm\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processor.state_dir, "/var/lib/tm");
  EXPECT_EQ(c->processor_http.address, "127.0.0.1");
  EXPECT_EQ(c->processor_http.port, 8082);
  EXPECT_EQ(c->processor.group_id, "tokenmeter-processor");
  EXPECT_EQ(c->processor.dlq_topic, "tokenmeter.events.dlq");
  EXPECT_EQ(c->processor.max_batch, 10000);
  c = LoadConfigText("processor:\n  listen: 0.0.0.0:9100\n  state_dir: s\n  max_batch: 10\n"
                     "  group_id: g\n  dlq_topic: d\n  poll_timeout_ms: 50\n  rollup_fold_ms: 250\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processor_http.port, 9100);
  EXPECT_EQ(c->processor.max_batch, 10);
  EXPECT_EQ(c->processor.group_id, "g");
  EXPECT_EQ(c->processor.dlq_topic, "d");
  EXPECT_EQ(c->processor.poll_timeout_ms, 50);
  EXPECT_EQ(c->processor.rollup_fold_ms, 250);
  c = LoadConfigText("processor:\n  statedir: x\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "unknown key \"statedir\" in processor at line 2");
  EXPECT_EQ(ProcessorConfig{}.Validate().message(), "processor.state_dir is required");
}

TEST(ConfigFileTest, WorkspacePricingParsesExactlyAndNormalizesNames) {
  Result<AppConfig> c = LoadConfigText(R"(
workspaces:
  - id: acme
    price_overrides:
      - provider: OpenAI
        model: GPT-4o
        effective_from: 2026-01-01T00:00:00Z
        input_usd_per_mtok: "2.50"
        output_usd_per_mtok: "10"
        cache_read_usd_per_mtok: "0.000000001"
    model_aliases:
      - provider: azure
        name: Prod-GPT4o-East
        model: gpt-4o
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->processor.price_overrides.size(), 1u);
  const PriceOverride& o = c->processor.price_overrides[0];
  EXPECT_EQ(o.workspace, "acme");
  EXPECT_EQ(o.provider, "openai");
  EXPECT_EQ(o.model, "gpt-4o");
  EXPECT_EQ(o.prices.input, 2'500'000'000u);  // femto-USD per token
  EXPECT_EQ(o.prices.output, 10'000'000'000u);
  EXPECT_EQ(o.prices.cache_read, 1u);
  EXPECT_FALSE(o.prices.reasoning.has_value());
  ASSERT_EQ(c->processor.model_aliases.size(), 1u);
  EXPECT_EQ(c->processor.model_aliases[0].provider, "azure_openai");
  EXPECT_EQ(c->processor.model_aliases[0].name, "prod-gpt4o-east");
  c = LoadConfigText("workspaces:\n  - id: a\n    price_overrides:\n      - provider: openai\n"
                     "        model: m\n        input_usd_per_mtok: 2.5e0\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "workspaces[0].price_overrides[0].input_usd_per_mtok (line 6) must be a "
                                  "decimal USD amount per million tokens, e.g. \"2.50\"");
}

TEST(ConfigFileTest, RetentionParsesAndMustCoverTheIngestPastSkew) {
  Result<AppConfig> c = LoadConfigText("processor:\n  state_dir: s\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processor.retention.dedup_days, 35);
  EXPECT_EQ(c->processor.retention.events_days, 30);
  c = LoadConfigText("retention:\n  dedup_days: 60\n  events_days: 14\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processor.retention.dedup_days, 60);
  EXPECT_EQ(c->processor.retention.events_days, 14);
  c = LoadConfigText("retention:\n  dedup_days: 0\n");
  EXPECT_EQ(c.status().message(), "retention.dedup_days must be in [1, 3650]");
  c = LoadConfigText("retention:\n  event_days: 10\n");
  EXPECT_EQ(c.status().message(), "unknown key \"event_days\" in retention at line 2");
  // The edge accepts events up to 7 days old by default: a 7-day window could not find
  // a late retry's id.
  c = LoadConfigText("retention:\n  dedup_days: 7\n");
  EXPECT_EQ(c.status().message(),
            "ingest.max_past_skew_s (604800 s) must be shorter than the dedup window, retention.dedup_days (7 days)");
  c = LoadConfigText("retention:\n  dedup_days: 7\ningest:\n  max_past_skew_s: 86400\n");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
}

TEST(ConfigFileTest, RollupRetentionParsesAndMustKeepWhatIngestAndTheDetectorsRead) {
  Result<AppConfig> c = LoadConfigText("processor:\n  state_dir: s\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processor.retention.minute_rollup_days, 14);
  EXPECT_EQ(c->processor.retention.hour_rollup_days, 400);
  EXPECT_EQ(c->processor.retention.day_rollup_days, 3650);
  c = LoadConfigText("retention:\n  minute_rollup_days: 30\n  hour_rollup_days: 90\n  day_rollup_days: 730\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processor.retention.rollup_window('m'), std::chrono::days(30));
  EXPECT_EQ(c->processor.retention.rollup_window('h'), std::chrono::days(90));
  EXPECT_EQ(c->processor.retention.rollup_window('d'), std::chrono::days(730));
  c = LoadConfigText("retention:\n  hour_rollup_days: 10\n");
  EXPECT_EQ(c.status().message(),
            "retention: need minute_rollup_days <= hour_rollup_days <= day_rollup_days (a coarser row covers what a "
            "finer one no longer does)");
  // Events up to 7 days old are accepted by default: their minute rows must not be
  // written already expired.
  c = LoadConfigText("retention:\n  minute_rollup_days: 7\n");
  EXPECT_EQ(c.status().message(),
            "ingest.max_past_skew_s (604800 s) must be shorter than retention.minute_rollup_days (7 days)");
  c = LoadConfigText("retention:\n  minute_rollup_days: 2\ningest:\n  max_past_skew_s: 86400\n"
                     "detectors:\n  baseline_windows: 2880\n  min_baseline_windows: 10\n");
  EXPECT_EQ(c.status().message(),
            "detectors.baseline_windows (2880 minutes) must fit in retention.minute_rollup_days (2 days)");
}

TEST(ConfigFileTest, UnknownKeysAreErrorsNamingKeyAndLine) {
  Result<AppConfig> c = LoadConfigText("edge:\n  listen: 127.0.0.1:1\n  thread: 2\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "unknown key \"thread\" in edge at line 3");
  c = LoadConfigText("workspaces:\n  - id: a\n    burst: 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "unknown key \"burst\" in workspaces[0] at line 3");
  c = LoadConfigText("ingestion: {}\n");
  EXPECT_EQ(c.status().message(), "unknown key \"ingestion\" in config at line 1");
}

TEST(ConfigFileTest, WrongTypesAndBadValuesAreErrors) {
  Result<AppConfig> c = LoadConfigText("edge:\n  threads: many\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "edge.threads (line 2) has the wrong type");
  c = LoadConfigText("edge:\n  listen: localhost\n");
  EXPECT_EQ(c.status().message(), "edge.listen (line 2) must be address:port");
  c = LoadConfigText("keys:\n  - id: AAAAAAAAAAAA\n    role: root\n");
  EXPECT_EQ(c.status().message(), "keys[0].role (line 2) must be owner, admin, member or ingest");
  c = LoadConfigText("ingest:\n  max_json_depth: 2\n");
  EXPECT_EQ(c.status().message(), "ingest.max_json_depth must be in [3, 64] (a batch needs 3)");
  EXPECT_FALSE(LoadConfigText("edge: [1, 2\n").ok());
  EXPECT_FALSE(LoadConfigFile("/nonexistent/tokenmeter.yaml").ok());
}

// When ingest is answered: unset (each command's default), applied or durable, and the
// wait; anything else is refused with the choices.
TEST(ConfigFileTest, AnswerAfterIsAppliedOrDurable) {
  Result<AppConfig> c = LoadConfigText("bus:\n  kafka:\n    bootstrap_servers: 127.0.0.1:9092\n");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->edge.answer_after.has_value());
  EXPECT_EQ(c->edge.applied_wait_ms, 2000);
  c = LoadConfigText("edge:\n  answer_after: durable\n  applied_wait_ms: 500\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->edge.answer_after, EdgeConfig::AnswerAfter::kDurable);
  EXPECT_EQ(c->edge.applied_wait_ms, 500);
  c = LoadConfigText("edge:\n  answer_after: applied\nbus:\n  kafka:\n    outcomes_topic: tm.outcomes\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->edge.answer_after, EdgeConfig::AnswerAfter::kApplied);
  EXPECT_EQ(c->kafka.outcomes_topic, "tm.outcomes");
  c = LoadConfigText("edge:\n  answer_after: never\n");
  EXPECT_EQ(c.status().message(), "edge.answer_after must be applied or durable, not \"never\"");
  c = LoadConfigText("edge:\n  applied_wait_ms: 0\n");
  EXPECT_EQ(c.status().message(), "edge.applied_wait_ms must be in [1, 60000]");
}

// linger.ms is a float in librdkafka: a fraction of a millisecond is a valid batching
// delay, outside [0, 1000] (or not a number) the producer is refused before it starts.
TEST(ConfigFileTest, KafkaLingerTakesFractionsAndRefusesOutOfRangeValues) {
  Result<AppConfig> c =
      LoadConfigText("bus:\n  kafka:\n    bootstrap_servers: a:1\n    linger_ms: 0.125\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kafka.linger_ms, 0.125);
  EXPECT_TRUE(c->kafka.Validate().ok());
  for (const char* bad : {"-0.5", "1000.5", ".nan"}) {
    c = LoadConfigText(std::string("bus:\n  kafka:\n    bootstrap_servers: a:1\n    linger_ms: ") +
                       bad + "\n");
    ASSERT_TRUE(c.ok()) << bad;
    Status s = c->kafka.Validate();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "bus.kafka.linger_ms in [0,1000]") << bad;
  }
  c = LoadConfigText("bus:\n  kafka:\n    linger_ms: soon\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "bus.kafka.linger_ms (line 3) has the wrong type");
}

TEST(ConfigFileTest, BudgetsPlansRoutesSinksAndDetectorsParseExactly) {
  setenv("TM_TEST_HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
  Result<AppConfig> c = LoadConfigText(R"(
workspaces:
  - id: acme
    plan: {requests_per_month: 1000000}
    budgets:
      - id: monthly
        amount_usd: "500.25"
        thresholds: [0.5, 0.8, 1.0, 1.1]
        project: web
      - id: daily
        period: day
        amount_usd: "20"
        data_modes: [real, test]
    alert_routes:
      - sink: hook
        types: [budget_exceeded, plan_limit_reached]
      - sink: mail
sinks:
  - id: hook
    type: webhook
    url: http://127.0.0.1:9000/hooks
    secrets: ["${TM_TEST_HOOK_SECRET}"]
  - id: mail
    type: email
    smtp_url: smtp://127.0.0.1:2525
    from: tokenmeter@example.com
    to: [ops@example.com]
alerts:
  repeat_interval_s: 3600
  notify_resolved: false
  retry: {initial_backoff_ms: 500, horizon_s: 600}
detectors:
  grace_s: 30
  cost_per_request: {min_ratio: 2, min_requests: 50}
  spend_spike: {min_usd: "0.5"}
  tenant_concentration: {share: 0.7}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const AlertingConfig& a = c->processor.alerting;
  ASSERT_EQ(a.budgets.size(), 2u);
  EXPECT_EQ(a.budgets[0].amount.value, 500'250'000'000);
  EXPECT_EQ(a.budgets[0].thresholds_ppm, (std::vector<uint32_t>{500'000, 800'000, 1'100'000}));
  EXPECT_EQ(a.budgets[0].project, "web");
  EXPECT_EQ(a.budgets[0].period, BudgetPeriod::kMonth);
  EXPECT_EQ(a.budgets[1].period, BudgetPeriod::kDay);
  EXPECT_EQ(a.budgets[1].thresholds_ppm, (std::vector<uint32_t>{800'000}));
  EXPECT_EQ(a.budgets[1].data_modes, (std::vector<DataMode>{DataMode::kReal, DataMode::kTest}));
  ASSERT_EQ(a.plan_limits.size(), 1u);
  EXPECT_EQ(a.plan_limits[0].requests_per_month, 1'000'000);
  ASSERT_EQ(a.routes.size(), 2u);
  EXPECT_EQ(a.routes[0].types, (std::vector<std::string>{"budget_exceeded", "plan_limit_reached"}));
  EXPECT_TRUE(a.routes[1].types.empty());
  EXPECT_EQ(a.repeat_interval, std::chrono::seconds(3600));
  EXPECT_FALSE(a.notify_resolved);
  ASSERT_EQ(c->sinks.size(), 2u);
  EXPECT_EQ(c->sinks[0].webhook.secrets[0], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(c->sinks[1].kind, SinkKind::kEmail);
  EXPECT_EQ(c->sinks[1].email.starttls, StartTls::kRequired);
  EXPECT_EQ(c->retry.initial_backoff_ms, 500);
  EXPECT_EQ(c->retry.max_backoff_ms, 300000);
  EXPECT_EQ(c->retry.horizon_s, 600);
  EXPECT_EQ(a.detectors.grace_s, 30);
  EXPECT_EQ(a.detectors.cpr_min_ratio_ppm, 2'000'000u);
  EXPECT_EQ(a.detectors.cpr_min_requests, 50);
  EXPECT_EQ(a.detectors.spike_min_nano, 500'000'000);
  EXPECT_EQ(a.detectors.tenant_share_ppm, 700'000u);
}

// Every detector key reaches its own field, in its unit; a section takes only its keys.
// A key whose workspace is not declared would count its events where no plan limit or
// budget applies: refused at start, naming the key and line. With no workspaces declared,
// keys name theirs freely.
TEST(ConfigFileTest, AKeyOfAnUndeclaredWorkspaceIsRefused) {
  const std::string key = "    sha256: " + std::string(64, 'a') + "\n    role: ingest\n";
  Result<AppConfig> c = LoadConfigText("workspaces:\n  - id: acme\n    plan: {requests_per_month: 10}\n"
                                       "keys:\n  - id: AAAAAAAAAAAA\n    workspace: acme\n" + key +
                                       "  - id: BBBBBBBBBBBB\n    workspace: acmee\n" + key);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "keys[1].workspace (line 10) is \"acmee\", which is not declared under workspaces:");
  c = LoadConfigText("keys:\n  - id: BBBBBBBBBBBB\n    workspace: acmee\n" + key);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
}

TEST(ConfigFileTest, EveryDetectorKeyReachesItsField) {
  Result<AppConfig> c = LoadConfigText(R"(
detectors:
  cost_per_request: {min_requests: 21, min_ratio: 1.25, mad_k: 2.5}
  spend_spike: {ratio: 4, min_usd: "0.25"}
  request_burst: {ratio: 5, min_requests: 150, success_drop: 0.2}
  tenant_concentration: {share: 0.6, min_usd: "2"}
  unpriced_share: {share: 0.1, min_requests: 30}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DetectorConfig& d = c->processor.alerting.detectors;
  EXPECT_EQ(d.cpr_min_requests, 21);
  EXPECT_EQ(d.cpr_min_ratio_ppm, 1'250'000u);
  EXPECT_EQ(d.cpr_mad_k_ppm, 2'500'000u);
  EXPECT_EQ(d.spike_ratio_ppm, 4'000'000u);
  EXPECT_EQ(d.spike_min_nano, 250'000'000);
  EXPECT_EQ(d.burst_ratio_ppm, 5'000'000u);
  EXPECT_EQ(d.burst_min_requests, 150);
  EXPECT_EQ(d.burst_success_drop_ppm, 200'000u);
  EXPECT_EQ(d.tenant_share_ppm, 600'000u);
  EXPECT_EQ(d.tenant_min_spend_nano, 2'000'000'000);
  EXPECT_EQ(d.unpriced_share_ppm, 100'000u);
  EXPECT_EQ(d.unpriced_min_requests, 30);
  Result<AppConfig> bad = LoadConfigText("detectors:\n  spend_spike:\n    share: 0.5\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown key \"share\" in detectors.spend_spike at line 3");
  bad = LoadConfigText("detectors:\n  unpriced_share: {share: lots}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "detectors.unpriced_share.share (line 2) must be a decimal, e.g. 0.5");
}

TEST(ConfigFileTest, BadAlertingConfigIsRefusedWithTheReason) {
  auto error = [](const std::string& yaml) {
    Result<AppConfig> c = LoadConfigText(yaml);
    return c.ok() ? std::string("accepted") : c.status().message();
  };
  EXPECT_EQ(error("workspaces:\n  - id: a\n    budgets:\n      - {id: m, amount_usd: \"-5\"}\n"),
            "workspaces[0].budgets[0].amount_usd (line 4) must be a positive decimal USD amount, e.g. \"500\"");
  EXPECT_EQ(error("workspaces:\n  - id: a\n    budgets:\n      - {id: m, amount_usd: \"5\", thresholds: [0.8, 0.5]}\n"),
            "workspaces[0].budgets[0].thresholds (line 4) must be ascending and distinct");
  EXPECT_EQ(error("workspaces:\n  - id: a\n    alert_routes:\n      - sink: nowhere\n"),
            "alert route of workspace a names sink \"nowhere\", which is not in sinks:");
  EXPECT_EQ(error("sinks:\n  - {id: h, type: webhook, url: \"https://x/y\", secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]}\n"),
            "sink h: webhook url must start with http://: https://x/y");
  EXPECT_EQ(error("sinks:\n  - {id: m, type: email, smtp_url: \"smtp://x\", from: a@b, to: [c@d], starttls: maybe}\n"),
            "sinks[0].starttls (line 2) must be required or off");
  EXPECT_EQ(error("workspaces:\n  - id: a\n    alert_routes:\n      - {sink: h, types: [budget_blown]}\nsinks:\n"
                  "  - {id: h, type: webhook, url: \"http://x/y\", secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]}\n"),
            "alert route of workspace a: unknown alert type \"budget_blown\"");
}

TEST(ConfigFileTest, SecretsComeFromEnvironmentVariables) {
  setenv("TM_TEST_BOOTSTRAP", "10.1.2.3:9092", 1);
  Result<AppConfig> c =
      LoadConfigText("bus:\n  kafka:\n    bootstrap_servers: ${TM_TEST_BOOTSTRAP},x:1\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kafka.bootstrap_servers, "10.1.2.3:9092,x:1");
  c = LoadConfigText("bus:\n  kafka:\n    bootstrap_servers: ${TM_TEST_UNSET_VARIABLE}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "bus.kafka.bootstrap_servers (line 3): environment variable TM_TEST_UNSET_VARIABLE is not set");
}

}  // namespace
}  // namespace tokenmeter
