#include "tokenmeter/model/event_codec.h"

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

void Str(std::string& out, std::string_view key, std::string_view value, bool skip_empty = true) {
  if (skip_empty && value.empty()) return;
  out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
  AppendJsonString(out, value);
}

void Num(std::string& out, std::string_view key, uint64_t value) {
  out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
  out += std::to_string(value);
}

}  // namespace

void EncodeCanonical(const UsageEvent& e, std::string& out) {
  out += "{\"v\":";
  out += std::to_string(kCanonicalSchemaVersion);
  Str(out, "workspace", e.workspace, false);
  Str(out, "request_id", e.request_id, false);
  Str(out, "provider", e.provider, false);
  Str(out, "model", e.model, false);
  if (e.model_raw != e.model) Str(out, "model_raw", e.model_raw);
  Str(out, "endpoint_tag", e.endpoint_tag);
  Str(out, "prompt_version", e.prompt_version);
  Str(out, "project", e.project);
  Str(out, "project_raw", e.project_raw);
  Str(out, "environment", e.environment, false);
  Str(out, "data_mode", DataModeName(e.data_mode), false);
  Str(out, "user_id", e.user_id);
  Str(out, "tenant_id", e.tenant_id);
  Num(out, "input_tokens", e.input_tokens);
  Num(out, "output_tokens", e.output_tokens);
  if (e.cached_tokens) Num(out, "cached_tokens", e.cached_tokens);
  if (e.cache_write_tokens) Num(out, "cache_write_tokens", e.cache_write_tokens);
  if (e.cache_write_1h_tokens) Num(out, "cache_write_1h_tokens", e.cache_write_1h_tokens);
  if (e.reasoning_tokens) Num(out, "reasoning_tokens", e.reasoning_tokens);
  if (e.total_tokens) Num(out, "total_tokens", *e.total_tokens);
  if (e.latency_ms) Num(out, "latency_ms", *e.latency_ms);
  if (e.status) Str(out, "status", CallStatusName(*e.status));
  if (e.estimated_cost) {
    out += ",\"estimated_cost_usd\":";
    out += FormatUsd(*e.estimated_cost);
  }
  Str(out, "occurred_at", FormatRfc3339(e.occurred_at), false);
  Str(out, "received_at", FormatRfc3339(e.received_at), false);
  Str(out, "api_key_id", e.api_key_id);
  if (e.warnings) {
    std::string w;
    if (e.warnings & kWarnTotalTokensMismatch) w += "total_tokens_mismatch";
    if (e.warnings & kWarnUnknownProject) w += w.empty() ? "unknown_project" : ",unknown_project";
    Str(out, "warnings", w);
  }
  out.push_back('}');
}

}  // namespace tokenmeter
