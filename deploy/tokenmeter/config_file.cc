#include "config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <variant>
#include <vector>

#include "budget_text.h"
#include "pricing_text.h"
#include "config_yaml.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/model/normalizer.h"

namespace tokenmeter {
namespace {

Status ParseListen(const YAML::Node& section, const std::string& path, HttpServerConfig& http) {
  std::string listen;
  RETURN_IF_ERROR(Get(section, "listen", path, listen));
  if (listen.empty()) return Status::Ok();
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument(Where(section["listen"], path + ".listen") + " must be address:port");
  }
  http.address = listen.substr(0, colon);
  try {
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    http.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return InvalidArgument(Where(section["listen"], path + ".listen") + " has a bad port");
  }
  return Status::Ok();
}

Status ParseEdge(const YAML::Node& n, AppConfig& c) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "edge",
                           {"listen", "threads", "max_header_bytes", "header_timeout_ms",
                            "body_timeout_ms", "handler_deadline_ms", "max_connections",
                            "key_events_per_second", "key_burst_events",
                            "unavailable_retry_after_s", "drain_timeout_ms", "answer_after",
                            "applied_wait_ms"}));
  RETURN_IF_ERROR(ParseListen(n, "edge", c.http));
  RETURN_IF_ERROR(Get(n, "threads", "edge", c.http.threads));
  RETURN_IF_ERROR(Get(n, "max_header_bytes", "edge", c.http.max_header_bytes));
  RETURN_IF_ERROR(Get(n, "header_timeout_ms", "edge", c.http.header_timeout_ms));
  RETURN_IF_ERROR(Get(n, "body_timeout_ms", "edge", c.http.body_timeout_ms));
  RETURN_IF_ERROR(Get(n, "handler_deadline_ms", "edge", c.http.handler_deadline_ms));
  RETURN_IF_ERROR(Get(n, "max_connections", "edge", c.http.max_connections));
  RETURN_IF_ERROR(Get(n, "key_events_per_second", "edge", c.edge.key_events_per_second));
  RETURN_IF_ERROR(Get(n, "key_burst_events", "edge", c.edge.key_burst_events));
  RETURN_IF_ERROR(Get(n, "unavailable_retry_after_s", "edge", c.edge.unavailable_retry_after_s));
  RETURN_IF_ERROR(Get(n, "drain_timeout_ms", "edge", c.drain_timeout_ms));
  RETURN_IF_ERROR(Get(n, "applied_wait_ms", "edge", c.edge.applied_wait_ms));
  if (n["answer_after"]) {
    std::string when;
    RETURN_IF_ERROR(Get(n, "answer_after", "edge", when));
    if (when == "applied") {
      c.edge.answer_after = EdgeConfig::AnswerAfter::kApplied;
    } else if (when == "durable") {
      c.edge.answer_after = EdgeConfig::AnswerAfter::kDurable;
    } else {
      return InvalidArgument("edge.answer_after must be applied or durable, not \"" + when + "\"");
    }
  }
  return Status::Ok();
}

Status ParseProcessor(const YAML::Node& n, AppConfig& c) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "processor", {"listen", "state_dir", "max_batch", "poll_timeout_ms",
                                            "retry_backoff_ms", "dlq_topic", "group_id", "rollup_fold_ms",
                                            "advertise_url"}));
  RETURN_IF_ERROR(ParseListen(n, "processor", c.processor_http));
  RETURN_IF_ERROR(Get(n, "state_dir", "processor", c.processor.state_dir));
  RETURN_IF_ERROR(Get(n, "max_batch", "processor", c.processor.max_batch));
  RETURN_IF_ERROR(Get(n, "poll_timeout_ms", "processor", c.processor.poll_timeout_ms));
  RETURN_IF_ERROR(Get(n, "retry_backoff_ms", "processor", c.processor.retry_backoff_ms));
  RETURN_IF_ERROR(Get(n, "dlq_topic", "processor", c.processor.dlq_topic));
  RETURN_IF_ERROR(Get(n, "group_id", "processor", c.processor.group_id));
  RETURN_IF_ERROR(Get(n, "rollup_fold_ms", "processor", c.processor.rollup_fold_ms));
  RETURN_IF_ERROR(Get(n, "advertise_url", "processor", c.processor_advertise_url));
  if (!c.processor_advertise_url.empty() && !c.processor_advertise_url.starts_with("http://")) {
    return InvalidArgument(Where(n["advertise_url"], "processor.advertise_url") + " must be http://host:port");
  }
  return Status::Ok();
}

Status ParseRetention(const YAML::Node& n, RetentionConfig& r) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "retention", {"dedup_days", "events_days", "minute_rollup_days", "hour_rollup_days",
                                            "day_rollup_days", "log_days", "dlq_days"}));
  RETURN_IF_ERROR(Get(n, "log_days", "retention", r.log_days));
  RETURN_IF_ERROR(Get(n, "dlq_days", "retention", r.dlq_days));
  RETURN_IF_ERROR(Get(n, "dedup_days", "retention", r.dedup_days));
  RETURN_IF_ERROR(Get(n, "events_days", "retention", r.events_days));
  RETURN_IF_ERROR(Get(n, "minute_rollup_days", "retention", r.minute_rollup_days));
  RETURN_IF_ERROR(Get(n, "hour_rollup_days", "retention", r.hour_rollup_days));
  RETURN_IF_ERROR(Get(n, "day_rollup_days", "retention", r.day_rollup_days));
  return r.Validate();
}

Status ParseServe(const YAML::Node& n, AppConfig& c) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "serve", {"listen", "data_dir", "log_segment_mb"}));
  RETURN_IF_ERROR(Get(n, "log_segment_mb", "serve", c.serve_log_segment_mb));
  if (c.serve_log_segment_mb < 1 || c.serve_log_segment_mb > 4096) {
    return InvalidArgument("serve.log_segment_mb must be in [1, 4096]");
  }
  RETURN_IF_ERROR(ParseListen(n, "serve", c.serve_http));
  RETURN_IF_ERROR(Get(n, "data_dir", "serve", c.serve_data_dir));
  if (c.serve_data_dir.empty()) return InvalidArgument("serve.data_dir must not be empty");
  return Status::Ok();
}

Status ParseIngest(const YAML::Node& n, IngestLimits& l) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "ingest",
                           {"max_body_bytes", "max_events_per_request", "max_json_depth",
                            "max_fields_per_event", "max_string_bytes", "max_request_id_bytes",
                            "max_tokens", "max_latency_ms", "max_estimated_cost_usd",
                            "max_future_skew_s", "max_past_skew_s"}));
  RETURN_IF_ERROR(Get(n, "max_body_bytes", "ingest", l.max_body_bytes));
  RETURN_IF_ERROR(Get(n, "max_events_per_request", "ingest", l.max_events_per_request));
  RETURN_IF_ERROR(Get(n, "max_json_depth", "ingest", l.max_json_depth));
  RETURN_IF_ERROR(Get(n, "max_fields_per_event", "ingest", l.max_fields_per_event));
  RETURN_IF_ERROR(Get(n, "max_string_bytes", "ingest", l.max_string_bytes));
  RETURN_IF_ERROR(Get(n, "max_request_id_bytes", "ingest", l.max_request_id_bytes));
  RETURN_IF_ERROR(Get(n, "max_tokens", "ingest", l.max_tokens));
  RETURN_IF_ERROR(Get(n, "max_latency_ms", "ingest", l.max_latency_ms));
  RETURN_IF_ERROR(Get(n, "max_estimated_cost_usd", "ingest", l.max_estimated_cost_usd));
  RETURN_IF_ERROR(Get(n, "max_future_skew_s", "ingest", l.max_future_skew));
  RETURN_IF_ERROR(Get(n, "max_past_skew_s", "ingest", l.max_past_skew));
  return Status::Ok();
}

Status ParseBus(const YAML::Node& n, KafkaConfig& k) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "bus", {"kafka"}));
  YAML::Node kn = n["kafka"];
  if (!kn) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(kn, "bus.kafka",
                           {"bootstrap_servers", "topic", "status_topic", "settings_topic", "outcomes_topic",
                            "processors_topic", "client_id",
                            "delivery_timeout_ms",
                            "linger_ms", "queue_max_messages", "queue_max_kbytes",
                            "properties"}));
  RETURN_IF_ERROR(Get(kn, "bootstrap_servers", "bus.kafka", k.bootstrap_servers));
  RETURN_IF_ERROR(Get(kn, "topic", "bus.kafka", k.topic));
  RETURN_IF_ERROR(Get(kn, "status_topic", "bus.kafka", k.status_topic));
  RETURN_IF_ERROR(Get(kn, "outcomes_topic", "bus.kafka", k.outcomes_topic));
  RETURN_IF_ERROR(Get(kn, "settings_topic", "bus.kafka", k.settings_topic));
  RETURN_IF_ERROR(Get(kn, "processors_topic", "bus.kafka", k.processors_topic));
  RETURN_IF_ERROR(Get(kn, "client_id", "bus.kafka", k.client_id));
  RETURN_IF_ERROR(Get(kn, "delivery_timeout_ms", "bus.kafka", k.delivery_timeout_ms));
  RETURN_IF_ERROR(Get(kn, "linger_ms", "bus.kafka", k.linger_ms));
  RETURN_IF_ERROR(Get(kn, "queue_max_messages", "bus.kafka", k.queue_max_messages));
  RETURN_IF_ERROR(Get(kn, "queue_max_kbytes", "bus.kafka", k.queue_max_kbytes));
  if (YAML::Node p = kn["properties"]) {
    if (!p.IsMap()) return InvalidArgument(Where(p, "bus.kafka.properties") + " must be a mapping");
    for (const auto& kv : p) {
      std::string name = kv.first.as<std::string>();
      RETURN_IF_ERROR(Get(p, name.c_str(), "bus.kafka.properties", k.properties[name]));
    }
  }
  return Status::Ok();
}

// A pricing record's error, said at its key's line ("<key> <what is wrong>").
Status PricingError(const YAML::Node& entry, const std::string& path, const Status& s) {
  const std::string& m = s.message();
  const std::string key = m.substr(0, m.find(' '));
  YAML::Node at = entry[key];
  return InvalidArgument(Where(at ? at : entry, path + "." + key) + m.substr(key.size()));
}

// workspaces[].price_overrides and model_aliases: as written into `text` (the settings'
// view of the config file), and checked and normalized into `out` by the same rules as the
// admin API's (pricing_text.h).
Status ParsePricing(const YAML::Node& w, const std::string& path, const std::string& workspace,
                    const Normalizer& normalizer, ProcessorConfig& out, LiveSettings::Pricing& text) {
  if (YAML::Node list = w["price_overrides"]) {
    if (!list.IsSequence()) return InvalidArgument(Where(list, path + ".price_overrides") + " must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node o = list[i];
      std::string p = path + ".price_overrides[" + std::to_string(i) + "]";
      RETURN_IF_ERROR(OnlyKeys(o, p, {"provider", "model", "effective_from", "input_usd_per_mtok",
                                      "output_usd_per_mtok", "cache_read_usd_per_mtok",
                                      "cache_write_usd_per_mtok", "cache_write_1h_usd_per_mtok",
                                      "reasoning_usd_per_mtok"}));
      PriceOverrideRecord& r = text.overrides.emplace_back();
      for (auto [key, field] : {std::pair{"provider", &r.provider}, {"model", &r.model},
                                {"effective_from", &r.effective_from}, {"input_usd_per_mtok", &r.input},
                                {"output_usd_per_mtok", &r.output}, {"cache_read_usd_per_mtok", &r.cache_read},
                                {"cache_write_usd_per_mtok", &r.cache_write},
                                {"cache_write_1h_usd_per_mtok", &r.cache_write_1h},
                                {"reasoning_usd_per_mtok", &r.reasoning}}) {
        RETURN_IF_ERROR(Get(o, key, p, *field));
      }
      Result<PriceOverride> po = PriceOverrideOf(workspace, r, normalizer);
      if (!po.ok()) return PricingError(o, p, po.status());
      out.price_overrides.push_back(std::move(*po));
    }
  }
  if (YAML::Node list = w["model_aliases"]) {
    if (!list.IsSequence()) return InvalidArgument(Where(list, path + ".model_aliases") + " must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node a = list[i];
      std::string p = path + ".model_aliases[" + std::to_string(i) + "]";
      RETURN_IF_ERROR(OnlyKeys(a, p, {"provider", "name", "model"}));
      ModelAliasRecord& r = text.aliases.emplace_back();
      RETURN_IF_ERROR(Get(a, "provider", p, r.provider));
      RETURN_IF_ERROR(Get(a, "name", p, r.name));
      RETURN_IF_ERROR(Get(a, "model", p, r.model));
      Result<WorkspaceModelAlias> wa = ModelAliasOf(workspace, r, normalizer);
      if (!wa.ok()) return PricingError(a, p, wa.status());
      out.model_aliases.push_back(std::move(*wa));
    }
  }
  return Status::Ok();
}

Status ParseBudgets(const YAML::Node& w, const std::string& path, const std::string& workspace,
                    AlertingConfig& out) {
  YAML::Node list = w["budgets"];
  if (!list) return Status::Ok();
  if (!list.IsSequence()) return InvalidArgument(Where(list, path + ".budgets") + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node b = list[i];
    std::string p = path + ".budgets[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(OnlyKeys(b, p, {"id", "period", "amount_usd", "thresholds", "project", "environment",
                                    "endpoint_tag", "tenant", "data_modes"}));
    BudgetRecord text;
    RETURN_IF_ERROR(Get(b, "id", p, text.id));
    RETURN_IF_ERROR(Get(b, "period", p, text.period));
    RETURN_IF_ERROR(Get(b, "amount_usd", p, text.amount_usd));
    RETURN_IF_ERROR(Get(b, "project", p, text.project));
    RETURN_IF_ERROR(Get(b, "environment", p, text.environment));
    RETURN_IF_ERROR(Get(b, "endpoint_tag", p, text.endpoint_tag));
    RETURN_IF_ERROR(Get(b, "tenant", p, text.tenant));
    RETURN_IF_ERROR(GetStringList(b, "thresholds", p, text.thresholds));
    RETURN_IF_ERROR(GetStringList(b, "data_modes", p, text.data_modes));
    if (b["thresholds"] && text.thresholds.empty()) {
      return InvalidArgument(Where(b["thresholds"], p + ".thresholds") + " must list fractions of the amount, e.g. [0.5, 0.8, 1.0]");
    }
    if (b["data_modes"] && text.data_modes.empty()) {
      return InvalidArgument(Where(b["data_modes"], p + ".data_modes") + " must list real, test or demo");
    }
    Result<BudgetConfig> bc = BudgetOf(workspace, text);
    if (!bc.ok()) {  // "<key> <what is wrong>": said at the key's line
      const std::string& m = bc.status().message();
      const std::string key = m.substr(0, m.find(' '));
      YAML::Node at = key == "amount_usd" ? b : b[key];
      return InvalidArgument(Where(at ? at : b, p + "." + key) + m.substr(key.size()));
    }
    out.budgets.push_back(std::move(*bc));
  }
  return Status::Ok();
}

Status ParseAlerting(const YAML::Node& w, const std::string& path, const std::string& workspace,
                     AlertingConfig& out) {
  RETURN_IF_ERROR(ParseBudgets(w, path, workspace, out));
  if (YAML::Node plan = w["plan"]) {
    RETURN_IF_ERROR(OnlyKeys(plan, path + ".plan", {"requests_per_month"}));
    PlanLimit pl{workspace, 0};
    RETURN_IF_ERROR(Get(plan, "requests_per_month", path + ".plan", pl.requests_per_month));
    out.plan_limits.push_back(pl);
  }
  if (YAML::Node routes = w["alert_routes"]) {
    if (!routes.IsSequence()) return InvalidArgument(Where(routes, path + ".alert_routes") + " must be a list");
    for (size_t i = 0; i < routes.size(); ++i) {
      std::string p = path + ".alert_routes[" + std::to_string(i) + "]";
      RETURN_IF_ERROR(OnlyKeys(routes[i], p, {"sink", "types"}));
      AlertRoute r;
      r.workspace = workspace;
      RETURN_IF_ERROR(Get(routes[i], "sink", p, r.sink));
      RETURN_IF_ERROR(GetStringList(routes[i], "types", p, r.types));
      if (r.sink.empty()) return InvalidArgument(Where(routes[i], p) + " needs a sink");
      out.routes.push_back(std::move(r));
    }
  }
  return Status::Ok();
}

Status ParseSinks(const YAML::Node& n, std::vector<SinkConfig>& out) {
  if (!n) return Status::Ok();
  if (!n.IsSequence()) return InvalidArgument(Where(n, "sinks") + " must be a list");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node s = n[i];
    std::string p = "sinks[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(OnlyKeys(s, p, {"id", "type", "url", "secrets", "smtp_url", "from", "to", "username",
                                    "password", "starttls", "ca_file"}));
    SinkConfig sc;
    std::string type, starttls = "required";
    RETURN_IF_ERROR(Get(s, "id", p, sc.id));
    RETURN_IF_ERROR(Get(s, "type", p, type));
    if (type == "webhook") {
      sc.kind = SinkKind::kWebhook;
      for (const char* k : {"smtp_url", "from", "to", "username", "password", "starttls", "ca_file"}) {
        if (s[k]) return InvalidArgument(Where(s[k], p + "." + k) + " applies to email sinks only");
      }
      RETURN_IF_ERROR(Get(s, "url", p, sc.webhook.url));
      RETURN_IF_ERROR(GetStringList(s, "secrets", p, sc.webhook.secrets));
    } else if (type == "email") {
      sc.kind = SinkKind::kEmail;
      for (const char* k : {"url", "secrets"}) {
        if (s[k]) return InvalidArgument(Where(s[k], p + "." + k) + " applies to webhook sinks only");
      }
      RETURN_IF_ERROR(Get(s, "smtp_url", p, sc.email.smtp_url));
      RETURN_IF_ERROR(Get(s, "from", p, sc.email.from));
      RETURN_IF_ERROR(GetStringList(s, "to", p, sc.email.to));
      RETURN_IF_ERROR(Get(s, "username", p, sc.email.username));
      RETURN_IF_ERROR(Get(s, "password", p, sc.email.password));
      RETURN_IF_ERROR(Get(s, "ca_file", p, sc.email.ca_file));
      RETURN_IF_ERROR(Get(s, "starttls", p, starttls));
      if (starttls == "required") {
        sc.email.starttls = StartTls::kRequired;
      } else if (starttls == "off") {
        sc.email.starttls = StartTls::kOff;
      } else {
        return InvalidArgument(Where(s["starttls"], p + ".starttls") + " must be required or off");
      }
    } else {
      return InvalidArgument(Where(s, p + ".type") + " must be webhook or email");
    }
    out.push_back(std::move(sc));
  }
  return Status::Ok();
}

Status ParseAlertsSection(const YAML::Node& n, AlertingConfig& a, RetryPolicy& r, int& status_refresh_ms) {
  if (!n) return Status::Ok();
  RETURN_IF_ERROR(OnlyKeys(n, "alerts", {"repeat_interval_s", "notify_resolved", "status_refresh_ms", "retry"}));
  RETURN_IF_ERROR(Get(n, "repeat_interval_s", "alerts", a.repeat_interval));
  RETURN_IF_ERROR(Get(n, "notify_resolved", "alerts", a.notify_resolved));
  RETURN_IF_ERROR(Get(n, "status_refresh_ms", "alerts", status_refresh_ms));
  if (YAML::Node retry = n["retry"]) {
    RETURN_IF_ERROR(OnlyKeys(retry, "alerts.retry", {"initial_backoff_ms", "max_backoff_ms", "horizon_s",
                                                     "attempt_timeout_ms", "poll_interval_ms"}));
    RETURN_IF_ERROR(Get(retry, "initial_backoff_ms", "alerts.retry", r.initial_backoff_ms));
    RETURN_IF_ERROR(Get(retry, "max_backoff_ms", "alerts.retry", r.max_backoff_ms));
    RETURN_IF_ERROR(Get(retry, "horizon_s", "alerts.retry", r.horizon_s));
    RETURN_IF_ERROR(Get(retry, "attempt_timeout_ms", "alerts.retry", r.attempt_timeout_ms));
    RETURN_IF_ERROR(Get(retry, "poll_interval_ms", "alerts.retry", r.poll_interval_ms));
  }
  return Status::Ok();
}

Status ParseDetectors(const YAML::Node& n, DetectorConfig& d) {
  if (!n) return Status::Ok();
  const std::string p = "detectors";
  RETURN_IF_ERROR(OnlyKeys(n, p, {"enabled", "grace_s", "baseline_windows", "min_baseline_windows",
                                  "cost_per_request", "spend_spike", "request_burst", "tenant_concentration",
                                  "unpriced_share"}));
  RETURN_IF_ERROR(Get(n, "enabled", p, d.enabled));
  RETURN_IF_ERROR(Get(n, "grace_s", p, d.grace_s));
  RETURN_IF_ERROR(Get(n, "baseline_windows", p, d.baseline_windows));
  RETURN_IF_ERROR(Get(n, "min_baseline_windows", p, d.min_baseline_windows));
  // Each detector's own keys: a count, a fraction (ppm) or a USD amount (nano-USD).
  using Count = int64_t DetectorConfig::*;
  using Ppm = uint32_t DetectorConfig::*;
  struct Key {
    const char* key;
    std::variant<Count, Ppm> field;
    bool usd = false;  // a Count field holding nano-USD
  };
  struct Section {
    const char* name;
    std::vector<Key> keys;
  };
  const Section sections[] = {
      {"cost_per_request",
       {{"min_requests", &DetectorConfig::cpr_min_requests},
        {"min_ratio", &DetectorConfig::cpr_min_ratio_ppm},
        {"mad_k", &DetectorConfig::cpr_mad_k_ppm}}},
      {"spend_spike",
       {{"ratio", &DetectorConfig::spike_ratio_ppm},
        {"min_usd", &DetectorConfig::spike_min_nano, true}}},
      {"request_burst",
       {{"ratio", &DetectorConfig::burst_ratio_ppm},
        {"min_requests", &DetectorConfig::burst_min_requests},
        {"success_drop", &DetectorConfig::burst_success_drop_ppm}}},
      {"tenant_concentration",
       {{"share", &DetectorConfig::tenant_share_ppm},
        {"min_usd", &DetectorConfig::tenant_min_spend_nano, true}}},
      {"unpriced_share",
       {{"share", &DetectorConfig::unpriced_share_ppm},
        {"min_requests", &DetectorConfig::unpriced_min_requests}}},
  };
  for (const Section& section : sections) {
    YAML::Node x = n[section.name];
    if (!x) continue;
    const std::string path = p + "." + section.name;
    std::set<std::string> allowed;
    for (const Key& k : section.keys) allowed.insert(k.key);
    RETURN_IF_ERROR(OnlyKeys(x, path, allowed));
    for (const Key& k : section.keys) {
      if (const Ppm* ppm = std::get_if<Ppm>(&k.field)) {
        RETURN_IF_ERROR(GetFraction(x, k.key, path, d.**ppm));
      } else if (k.usd) {
        RETURN_IF_ERROR(GetUsdNano(x, k.key, path, d.*std::get<Count>(k.field)));
      } else {
        RETURN_IF_ERROR(Get(x, k.key, path, d.*std::get<Count>(k.field)));
      }
    }
  }
  if (d.grace_s < 0 || d.baseline_windows < 1 || d.min_baseline_windows < 1 ||
      d.min_baseline_windows > d.baseline_windows) {
    return InvalidArgument("detectors: need grace_s >= 0 and 1 <= min_baseline_windows <= baseline_windows");
  }
  return Status::Ok();
}

Status ParseWorkspaces(const YAML::Node& n, std::vector<WorkspaceConfig>& out, ProcessorConfig& pricing,
                       std::map<std::string, LiveSettings::Pricing>& pricing_text) {
  if (!n) return Status::Ok();
  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  if (!normalizer.ok()) return normalizer.status();
  if (!n.IsSequence()) return InvalidArgument(Where(n, "workspaces") + " must be a list");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node w = n[i];
    std::string path = "workspaces[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(OnlyKeys(w, path, {"id", "projects", "strict_projects", "events_per_second",
                                       "burst_events", "price_overrides", "model_aliases", "budgets",
                                       "plan", "alert_routes"}));
    WorkspaceConfig wc;
    RETURN_IF_ERROR(Get(w, "id", path, wc.id));
    RETURN_IF_ERROR(Get(w, "strict_projects", path, wc.strict_projects));
    RETURN_IF_ERROR(Get(w, "events_per_second", path, wc.events_per_second));
    RETURN_IF_ERROR(Get(w, "burst_events", path, wc.burst_events));
    if (YAML::Node p = w["projects"]) {
      if (!p.IsSequence()) return InvalidArgument(Where(p, path + ".projects") + " must be a list");
      for (const auto& slug : p) wc.projects.push_back(slug.as<std::string>());
    }
    RETURN_IF_ERROR(ParsePricing(w, path, wc.id, *normalizer, pricing, pricing_text[wc.id]));
    RETURN_IF_ERROR(ParseAlerting(w, path, wc.id, pricing.alerting));
    out.push_back(std::move(wc));
  }
  return Status::Ok();
}

// Keys; where `workspaces:` declares any, each key's workspace must be one of them (a
// typo would otherwise count its events where no plan limit or budget applies).
Status ParseKeys(const YAML::Node& n, const std::vector<WorkspaceConfig>& declared,
                 std::vector<KeyRecord>& out) {
  if (!n) return Status::Ok();
  if (!n.IsSequence()) return InvalidArgument(Where(n, "keys") + " must be a list");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node k = n[i];
    std::string path = "keys[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(OnlyKeys(k, path, {"id", "prefix", "sha256", "workspace", "role", "project",
                                       "environment", "revoked", "events_per_second",
                                       "burst_events", "owner"}));
    KeyRecord r;
    std::string role = "ingest", prefix;
    RETURN_IF_ERROR(Get(k, "id", path, r.id));
    RETURN_IF_ERROR(Get(k, "prefix", path, prefix));  // display only
    RETURN_IF_ERROR(Get(k, "sha256", path, r.sha256));
    RETURN_IF_ERROR(Get(k, "workspace", path, r.workspace));
    if (!declared.empty() &&
        std::none_of(declared.begin(), declared.end(),
                     [&r](const WorkspaceConfig& w) { return w.id == r.workspace; })) {
      return InvalidArgument(Where(k["workspace"] ? k["workspace"] : k, path + ".workspace") +
                             " is \"" + r.workspace +
                             "\", which is not declared under workspaces:");
    }
    RETURN_IF_ERROR(Get(k, "role", path, role));
    RETURN_IF_ERROR(Get(k, "project", path, r.project));
    RETURN_IF_ERROR(Get(k, "environment", path, r.environment));
    RETURN_IF_ERROR(Get(k, "revoked", path, r.revoked));
    RETURN_IF_ERROR(Get(k, "events_per_second", path, r.events_per_second));
    RETURN_IF_ERROR(Get(k, "burst_events", path, r.burst_events));
    RETURN_IF_ERROR(Get(k, "owner", path, r.owner));
    if (r.owner.empty()) r.owner = r.id;  // a key of its own: "mine" is its own rows
    r.from_config = true;
    if (prefix.starts_with("tm_live_")) r.env = "live";  // shown as the key's prefix
    if (prefix.starts_with("tm_test_")) r.env = "test";
    auto parsed_role = ParseRole(role);
    if (!parsed_role) {
      return InvalidArgument(Where(k, path + ".role") + " must be owner, admin, member or ingest");
    }
    r.role = *parsed_role;
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace

Result<AppConfig> LoadConfigText(const std::string& text) {
  AppConfig c;
  c.processor_http.port = 8082;
  c.serve_http.port = 8080;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("config is not valid YAML: ") + e.what());
  }
  if (!root || root.IsNull()) return InvalidArgument("config is empty");
  RETURN_IF_ERROR(OnlyKeys(root, "config", {"edge", "ingest", "bus", "workspaces", "keys", "processor", "serve",
                                           "sinks", "alerts", "detectors", "retention"}));
  try {
    RETURN_IF_ERROR(ParseEdge(root["edge"], c));
    RETURN_IF_ERROR(ParseIngest(root["ingest"], c.edge.limits));
    RETURN_IF_ERROR(ParseBus(root["bus"], c.kafka));
    RETURN_IF_ERROR(ParseWorkspaces(root["workspaces"], c.edge.workspaces, c.processor, c.pricing_text));
    RETURN_IF_ERROR(ParseKeys(root["keys"], c.edge.workspaces, c.keys));
    RETURN_IF_ERROR(ParseProcessor(root["processor"], c));
    RETURN_IF_ERROR(ParseRetention(root["retention"], c.processor.retention));
    RETURN_IF_ERROR(ParseServe(root["serve"], c));
    RETURN_IF_ERROR(ParseSinks(root["sinks"], c.sinks));
    RETURN_IF_ERROR(ParseDetectors(root["detectors"], c.processor.alerting.detectors));
    RETURN_IF_ERROR(ParseAlertsSection(root["alerts"], c.processor.alerting, c.retry,
                                       c.processor.status_refresh_ms));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("config: ") + e.what());
  }
  c.http.max_body_bytes = c.edge.limits.max_body_bytes;
  // serve's one port takes the edge's HTTP settings (threads, bounds, timeouts).
  {
    HttpServerConfig serve = c.http;
    serve.address = c.serve_http.address;
    serve.port = c.serve_http.port;
    c.serve_http = serve;
  }
  RETURN_IF_ERROR(c.http.Validate());
  RETURN_IF_ERROR(c.edge.Validate());
  if (c.drain_timeout_ms < 0) return InvalidArgument("edge.drain_timeout_ms must be >= 0");
  RETURN_IF_ERROR(c.processor.alerting.Validate());
  // A late retry must still find its id: events older than the dedup window are refused.
  if (c.edge.limits.max_past_skew >= c.processor.retention.dedup_window()) {
    return InvalidArgument("ingest.max_past_skew_s (" + std::to_string(c.edge.limits.max_past_skew.count()) +
                           " s) must be shorter than the dedup window, retention.dedup_days (" +
                           std::to_string(c.processor.retention.dedup_days) + " days)");
  }
  // The oldest event accepted, and every detector's baseline, must find their minute rows.
  const auto minute_rows = c.processor.retention.rollup_window('m');
  if (c.edge.limits.max_past_skew >= minute_rows) {
    return InvalidArgument("ingest.max_past_skew_s (" + std::to_string(c.edge.limits.max_past_skew.count()) +
                           " s) must be shorter than retention.minute_rollup_days (" +
                           std::to_string(c.processor.retention.minute_rollup_days) + " days)");
  }
  if (std::chrono::minutes(c.processor.alerting.detectors.baseline_windows + 1) >= minute_rows) {
    return InvalidArgument("detectors.baseline_windows (" +
                           std::to_string(c.processor.alerting.detectors.baseline_windows) +
                           " minutes) must fit in retention.minute_rollup_days (" +
                           std::to_string(c.processor.retention.minute_rollup_days) + " days)");
  }
  RETURN_IF_ERROR(ValidateSinks(c.sinks, c.retry));
  for (const AlertRoute& r : c.processor.alerting.routes) {
    bool known = false;
    for (const SinkConfig& s : c.sinks) known = known || s.id == r.sink;
    if (!known) {
      return InvalidArgument("alert route of workspace " + r.workspace + " names sink \"" + r.sink +
                             "\", which is not in sinks:");
    }
  }
  return c;
}

Result<AppConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Result<AppConfig> c = LoadConfigText(ss.str());
  if (!c.ok()) return Status(c.status().code(), path + ": " + c.status().message());
  return c;
}

}  // namespace tokenmeter
