#include "stored_event.h"

#include <cstring>
#include <iterator>

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

constexpr char kVersion1 = 1;  // a legacy row starts with '{'

// Writes at `p`, which the caller sized for the worst case (a push_back per byte cost
// ~60 instructions a varint, ~25 varints an event).
char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
char* PutSigned(char* p, int64_t v) {
  return PutVarint(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));  // zigzag
}
char* PutText(char* p, std::string_view s) {
  p = PutVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());  // an empty view's data() may be null
  return p + s.size();
}
constexpr size_t kMaxVarint = 10;

// Reads the fields back in order; any overrun marks the row bad.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool ok() const { return ok_; }
  bool done() const { return at_ == b_.size(); }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= b_.size()) break;
      unsigned char c = static_cast<unsigned char>(b_[at_++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t Signed() {
    uint64_t z = Varint();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  uint8_t Byte() {
    if (at_ >= b_.size()) {
      ok_ = false;
      return 0;
    }
    return static_cast<uint8_t>(b_[at_++]);
  }
  std::string Text() {
    uint64_t n = Varint();
    if (!ok_ || n > b_.size() - at_) {
      ok_ = false;
      return {};
    }
    std::string s(b_.substr(at_, n));
    at_ += n;
    return s;
  }

 private:
  std::string_view b_;
  size_t at_ = 0;
  bool ok_ = true;
};

enum OptionalBits : uint8_t { kHasTotal = 1, kHasLatency = 2, kHasStatus = 4, kHasEstimate = 8, kHasCost = 16 };

int64_t Ms(TimePoint t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

}  // namespace

void EncodeStoredEvent(const UsageEvent& e, const Cost& cost, std::string_view catalog_version, std::string& out) {
  const std::string* texts[] = {&e.workspace,   &e.request_id,  &e.provider,       &e.model,   &e.model_raw,
                                &e.endpoint_tag, &e.prompt_version, &e.project,     &e.project_raw,
                                &e.environment, &e.user_id,     &e.tenant_id,      &e.api_key_id};
  // The worst case: every varint at its longest.
  size_t bound = 1 + (std::size(texts) + 1) * kMaxVarint + catalog_version.size() + 4 + 24 * kMaxVarint;
  for (const std::string* s : texts) bound += s->size();
  size_t at = out.size();
  out.resize(at + bound);
  char* p = out.data() + at;
  *p++ = kVersion1;
  for (const std::string* s : texts) p = PutText(p, *s);
  *p++ = static_cast<char>(e.data_mode);
  for (TokenCount n : {e.input_tokens, e.output_tokens, e.cached_tokens, e.cache_write_tokens,
                       e.cache_write_1h_tokens, e.reasoning_tokens}) {
    p = PutVarint(p, n);
  }
  uint8_t bits = (e.total_tokens ? kHasTotal : 0) | (e.latency_ms ? kHasLatency : 0) |
                 (e.status ? kHasStatus : 0) | (e.estimated_cost ? kHasEstimate : 0) |
                 (cost.total ? kHasCost : 0);
  *p++ = static_cast<char>(bits);
  if (e.total_tokens) p = PutVarint(p, *e.total_tokens);
  if (e.latency_ms) p = PutVarint(p, *e.latency_ms);
  if (e.status) *p++ = static_cast<char>(*e.status);
  if (e.estimated_cost) p = PutSigned(p, e.estimated_cost->value);
  p = PutSigned(p, Ms(e.occurred_at));
  p = PutSigned(p, Ms(e.received_at));
  p = PutVarint(p, e.warnings);
  *p++ = static_cast<char>(cost.source);
  if (cost.total) p = PutSigned(p, cost.total->value);
  for (NanoUsd part : {cost.input, cost.cached, cost.cache_write, cost.output, cost.reasoning}) {
    p = PutSigned(p, part.value);
  }
  p = PutVarint(p, cost.tier_threshold);
  p = PutVarint(p, cost.flags);
  p = PutText(p, catalog_version);
  out.resize(static_cast<size_t>(p - out.data()));
}

void AppendCostJson(const Cost& cost, std::string_view catalog_version, std::string& out) {
  out += "{\"cost_usd\":";
  if (cost.total) {
    AppendJsonString(out, FormatUsd(*cost.total));
  } else {
    out += "null";
  }
  out += ",\"cost_source\":";
  AppendJsonString(out, CostSourceName(cost.source));
  out += ",\"catalog_version\":";
  AppendJsonString(out, catalog_version);
  out += ",\"pricing_flags\":" + std::to_string(cost.flags);
  out += ",\"tier_above_prompt_tokens\":" + std::to_string(cost.tier_threshold);
  out += ",\"breakdown_usd\":{";
  const std::pair<const char*, NanoUsd> parts[] = {{"input", cost.input}, {"cached", cost.cached},
                                                    {"cache_write", cost.cache_write},
                                                    {"output", cost.output}, {"reasoning", cost.reasoning}};
  for (size_t i = 0; i < std::size(parts); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, parts[i].first);
    out.push_back(':');
    AppendJsonString(out, FormatUsd(parts[i].second));
  }
  out += "}}";
}

std::optional<StoredEventJson> StoredEventToJson(std::string_view row) {
  if (row.empty()) return std::nullopt;
  if (row[0] == '{') {  // legacy: event line, newline, cost line
    size_t nl = row.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    return StoredEventJson{std::string(row.substr(0, nl)), std::string(row.substr(nl + 1))};
  }
  if (row[0] != kVersion1) return std::nullopt;
  Reader r(row.substr(1));
  UsageEvent e;
  for (std::string* s : {&e.workspace, &e.request_id, &e.provider, &e.model, &e.model_raw, &e.endpoint_tag,
                         &e.prompt_version, &e.project, &e.project_raw, &e.environment, &e.user_id, &e.tenant_id,
                         &e.api_key_id}) {
    *s = r.Text();
  }
  e.data_mode = static_cast<DataMode>(r.Byte());
  for (TokenCount* n : {&e.input_tokens, &e.output_tokens, &e.cached_tokens, &e.cache_write_tokens,
                        &e.cache_write_1h_tokens, &e.reasoning_tokens}) {
    *n = r.Varint();
  }
  uint8_t bits = r.Byte();
  if (bits & kHasTotal) e.total_tokens = r.Varint();
  if (bits & kHasLatency) e.latency_ms = static_cast<uint32_t>(r.Varint());
  if (bits & kHasStatus) e.status = static_cast<CallStatus>(r.Byte());
  if (bits & kHasEstimate) e.estimated_cost = NanoUsd{r.Signed()};
  e.occurred_at = TimePoint(std::chrono::milliseconds(r.Signed()));
  e.received_at = TimePoint(std::chrono::milliseconds(r.Signed()));
  e.warnings = static_cast<uint32_t>(r.Varint());
  Cost cost;
  cost.source = static_cast<CostSource>(r.Byte());
  if (bits & kHasCost) cost.total = NanoUsd{r.Signed()};
  for (NanoUsd* part : {&cost.input, &cost.cached, &cost.cache_write, &cost.output, &cost.reasoning}) {
    part->value = r.Signed();
  }
  cost.tier_threshold = r.Varint();
  cost.flags = static_cast<uint32_t>(r.Varint());
  std::string catalog_version = r.Text();
  if (!r.ok() || !r.done()) return std::nullopt;
  if (e.data_mode > DataMode::kDemo || (e.status && *e.status > CallStatus::kCancelled) ||
      cost.source > CostSource::kWorkspaceOverride) {
    return std::nullopt;
  }
  StoredEventJson out;
  EncodeCanonical(e, out.event);
  AppendCostJson(cost, catalog_version, out.cost);
  return out;
}

}  // namespace tokenmeter
