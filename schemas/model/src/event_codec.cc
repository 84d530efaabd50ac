#include "tokenmeter/model/event_codec.h"

#include "binary_record.h"
#include "event_fields.h"
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
  if (e.occurred_at_defaulted) out += ",\"occurred_at_defaulted\":true";
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

namespace tokenmeter {
namespace {

int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

size_t EventFieldsBound(const UsageEvent& e) {
  size_t bound = 13 * kMaxVarint + 2 + 13 * kMaxVarint;  // text lengths, 2 bytes, numbers
  for (const std::string* s : {&e.workspace, &e.request_id, &e.provider, &e.model, &e.model_raw,
                               &e.endpoint_tag, &e.prompt_version, &e.project, &e.project_raw,
                               &e.environment, &e.user_id, &e.tenant_id, &e.api_key_id}) {
    bound += s->size();
  }
  return bound + 1;  // the status byte
}

char* PutEventFields(char* p, const UsageEvent& e, uint8_t extra_bits) {
  for (const std::string* s : {&e.workspace, &e.request_id, &e.provider, &e.model, &e.model_raw,
                               &e.endpoint_tag, &e.prompt_version, &e.project, &e.project_raw,
                               &e.environment, &e.user_id, &e.tenant_id, &e.api_key_id}) {
    p = PutText(p, *s);
  }
  *p++ = static_cast<char>(e.data_mode);
  for (TokenCount n : {e.input_tokens, e.output_tokens, e.cached_tokens, e.cache_write_tokens,
                       e.cache_write_1h_tokens, e.reasoning_tokens}) {
    p = PutVarint(p, n);
  }
  uint8_t bits = (e.total_tokens ? kHasTotalTokens : 0) | (e.latency_ms ? kHasLatency : 0) |
                 (e.status ? kHasStatus : 0) | (e.estimated_cost ? kHasEstimatedCost : 0) |
                 (e.occurred_at_defaulted ? kOccurredAtDefaulted : 0) |
                 (extra_bits & ~kEventFieldBits);
  *p++ = static_cast<char>(bits);
  if (e.total_tokens) p = PutVarint(p, *e.total_tokens);
  if (e.latency_ms) p = PutVarint(p, *e.latency_ms);
  if (e.status) *p++ = static_cast<char>(*e.status);
  if (e.estimated_cost) p = PutSigned(p, e.estimated_cost->value);
  p = PutSigned(p, Ms(e.occurred_at));
  p = PutSigned(p, Ms(e.received_at));
  return PutVarint(p, e.warnings);
}

void ReadEventFields(VarintReader& r, EventFieldViews& v) {
  for (std::string_view* s : {&v.workspace, &v.request_id, &v.provider, &v.model, &v.model_raw,
                              &v.endpoint_tag, &v.prompt_version, &v.project, &v.project_raw,
                              &v.environment, &v.user_id, &v.tenant_id, &v.api_key_id}) {
    *s = r.Text();
  }
  v.data_mode = r.Byte();
  for (TokenCount* n : {&v.input_tokens, &v.output_tokens, &v.cached_tokens, &v.cache_write_tokens,
                        &v.cache_write_1h_tokens, &v.reasoning_tokens}) {
    *n = r.Varint();
  }
  v.bits = r.Byte();
  if (v.bits & kHasTotalTokens) v.total_tokens = r.Varint();
  if (v.bits & kHasLatency) v.latency_ms = r.Varint();
  if (v.bits & kHasStatus) v.status = r.Byte();
  if (v.bits & kHasEstimatedCost) v.estimated_cost_nano = r.Signed();
  v.occurred_at_ms = r.Signed();
  v.received_at_ms = r.Signed();
  v.warnings = r.Varint();
}

void AssignEventFields(const EventFieldViews& v, UsageEvent& e) {
  const std::pair<std::string*, std::string_view> texts[] = {{&e.workspace, v.workspace},
                                                             {&e.request_id, v.request_id},
                                                             {&e.provider, v.provider},
                                                             {&e.model, v.model},
                                                             {&e.model_raw, v.model_raw},
                                                             {&e.endpoint_tag, v.endpoint_tag},
                                                             {&e.prompt_version, v.prompt_version},
                                                             {&e.project, v.project},
                                                             {&e.project_raw, v.project_raw},
                                                             {&e.environment, v.environment},
                                                             {&e.user_id, v.user_id},
                                                             {&e.tenant_id, v.tenant_id},
                                                             {&e.api_key_id, v.api_key_id}};
  for (const auto& [to, from] : texts) to->assign(from);
  e.data_mode = static_cast<DataMode>(v.data_mode);
  e.input_tokens = v.input_tokens;
  e.output_tokens = v.output_tokens;
  e.cached_tokens = v.cached_tokens;
  e.cache_write_tokens = v.cache_write_tokens;
  e.cache_write_1h_tokens = v.cache_write_1h_tokens;
  e.reasoning_tokens = v.reasoning_tokens;
  e.total_tokens.reset();
  if (v.bits & kHasTotalTokens) e.total_tokens = v.total_tokens;
  e.latency_ms.reset();
  if (v.bits & kHasLatency) e.latency_ms = static_cast<uint32_t>(v.latency_ms);
  e.status.reset();
  if (v.bits & kHasStatus) e.status = static_cast<CallStatus>(v.status);
  e.estimated_cost.reset();
  if (v.bits & kHasEstimatedCost) e.estimated_cost = NanoUsd{v.estimated_cost_nano};
  e.occurred_at = TimePoint(std::chrono::milliseconds(v.occurred_at_ms));
  e.received_at = TimePoint(std::chrono::milliseconds(v.received_at_ms));
  e.occurred_at_defaulted = (v.bits & kOccurredAtDefaulted) != 0;
  e.warnings = static_cast<uint32_t>(v.warnings);
}

void EncodeBusRecord(const UsageEvent& e, std::string& out) {
  size_t at = out.size();
  out.resize(at + 1 + EventFieldsBound(e));
  char* p = out.data() + at;
  *p++ = static_cast<char>(kBusRecordTag);
  p = PutEventFields(p, e, 0);
  out.resize(static_cast<size_t>(p - out.data()));
}

// ---- Decoding the binary record -------------------------------------------------------
// The same rules as the JSON form's validation above, on fields that arrive typed: every
// text bounded, free of control characters and valid UTF-8 (a JSON parse checks that on
// the way); the request id printable ASCII; counts, latency and the estimate within the
// limits; enums and times in range; provider and model normalized again.

namespace {

// 9999-12-31T23:59:59.999Z, the last time an RFC 3339 timestamp here can name.
constexpr int64_t kLastTimeMs = 253'402'300'799'999;

class BinaryChecker {
 public:
  explicit BinaryChecker(const IngestLimits& limits) : limits_(limits) {}

  void Text(const char* field, std::string_view s, size_t max_bytes) {
    if (std::string problem = TextProblem(s, max_bytes); !problem.empty()) {
      Add(field, problem);
    } else if (!IsValidUtf8(s)) {
      Add(field, "must be valid UTF-8");
    }
  }
  void RequestId(std::string_view s) {
    if (std::string problem = RequestIdProblem(s, limits_.max_request_id_bytes); !problem.empty()) {
      Add("request_id", problem);
    }
  }
  void AtMost(const char* field, uint64_t v, uint64_t max) {
    if (v > max) Add(field, "must be at most " + std::to_string(max));
  }
  void Time(const char* field, int64_t ms) {
    if (ms < 0 || ms > kLastTimeMs) Add(field, "must be a time between 1970 and 9999");
  }
  void Add(const char* field, std::string_view message) {
    if (!errors_.empty()) errors_ += "; ";
    errors_ += field;
    errors_.push_back(' ');
    errors_ += message;
  }
  const std::string& errors() const { return errors_; }

 private:
  const IngestLimits& limits_;
  std::string errors_;
};

}  // namespace

RecordStatus ParseBinaryRecord(std::string_view record, const IngestLimits& limits,
                               const Normalizer& normalizer, UsageEvent& out) {
  VarintReader r(record.substr(1));
  EventFieldViews v;
  ReadEventFields(r, v);
  if (!r.ok() || !r.done()) {
    return {RecordFault::kMalformed, r.ok() ? "malformed binary record: bytes after its last field"
                                            : "malformed binary record: it ends inside a field"};
  }
  if (v.bits & ~kEventFieldBits) {
    return {RecordFault::kMalformed, "malformed binary record: unknown field bits"};
  }
  BinaryChecker check(limits);
  const size_t max_text = limits.max_string_bytes;
  check.Text("workspace", v.workspace, max_text);
  if (v.workspace.empty()) check.Add("workspace", "must not be empty");
  check.RequestId(v.request_id);
  check.Text("provider", v.provider, 64);
  const std::pair<const char*, std::string_view> texts[] = {{"model", v.model},
                                                            {"model_raw", v.model_raw},
                                                            {"endpoint_tag", v.endpoint_tag},
                                                            {"prompt_version", v.prompt_version},
                                                            {"project", v.project},
                                                            {"project_raw", v.project_raw},
                                                            {"environment", v.environment},
                                                            {"user_id", v.user_id},
                                                            {"tenant_id", v.tenant_id},
                                                            {"api_key_id", v.api_key_id}};
  for (const auto& [field, text] : texts) check.Text(field, text, max_text);
  if (v.data_mode > static_cast<uint8_t>(DataMode::kDemo)) {
    check.Add("data_mode", "must be one of real, test, demo");
  }
  const std::pair<const char*, TokenCount> counts[] = {
      {"input_tokens", v.input_tokens},
      {"output_tokens", v.output_tokens},
      {"cached_tokens", v.cached_tokens},
      {"cache_write_tokens", v.cache_write_tokens},
      {"cache_write_1h_tokens", v.cache_write_1h_tokens},
      {"reasoning_tokens", v.reasoning_tokens},
      {"total_tokens", (v.bits & kHasTotalTokens) ? v.total_tokens : 0}};
  for (const auto& [field, n] : counts) check.AtMost(field, n, limits.max_tokens);
  if (v.bits & kHasLatency) check.AtMost("latency_ms", v.latency_ms, limits.max_latency_ms);
  if ((v.bits & kHasStatus) && v.status > static_cast<uint8_t>(CallStatus::kCancelled)) {
    check.Add("status", "must be one of success, error, timeout, cancelled");
  }
  if ((v.bits & kHasEstimatedCost) &&
      (v.estimated_cost_nano < 0 ||
       v.estimated_cost_nano > limits.max_estimated_cost_usd * 1'000'000'000)) {
    check.Add("estimated_cost_usd", "must be a non-negative decimal amount of USD, at most " +
                                        std::to_string(limits.max_estimated_cost_usd));
  }
  check.Time("occurred_at", v.occurred_at_ms);
  check.Time("received_at", v.received_at_ms);
  if ((v.bits & kOccurredAtDefaulted) && v.occurred_at_ms != v.received_at_ms) {
    check.Add("occurred_at", "is defaulted, so it must equal received_at");
  }
  if (!check.errors().empty()) return {RecordFault::kInvalidEvent, check.errors()};

  AssignEventFields(v, out);
  normalizer.Provider(v.provider, out.provider);
  if (out.provider.empty()) check.Add("provider", "must not be empty");
  normalizer.Model(out.provider, v.model, out.model);
  if (out.model.empty()) check.Add("model", "must not be empty");
  if (!check.errors().empty()) return {RecordFault::kInvalidEvent, check.errors()};
  if (out.model_raw.empty()) out.model_raw.assign(v.model);
  // Unknown warning bits are dropped, as the JSON form ignores unknown warning names.
  out.warnings &= kWarnTotalTokensMismatch | kWarnUnknownProject;
  MarkTotalTokensMismatch(out);
  return {};
}

}  // namespace tokenmeter
