#include "stored_event.h"

#include <cstring>
#include <iterator>

#include "state/fixed_codec.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

constexpr char kVersion = 2;

// The row's own bit in the event fields' bits byte.
constexpr uint8_t kHasCost = 32;
static_assert((kHasCost & kEventFieldBits) == 0);

}  // namespace

void AppendEventKey(const UsageEvent& e, std::string& k) {
  char head[kEventKeyHeadBytes];
  head[0] = '\0';
  StoreBigEndian64(head + 1, static_cast<uint64_t>(e.received_at.time_since_epoch().count()));
  StoreBigEndian64(head + 9, static_cast<uint64_t>(e.occurred_at.time_since_epoch().count()));
  head[17] = static_cast<char>('0' + static_cast<int>(e.data_mode));
  k.append(head, sizeof(head));
  k.append(e.workspace);
  k.push_back('\0');
  k.append(e.request_id);
}

std::optional<int64_t> EventKeyTime(std::string_view key) {
  if (key.size() < kEventKeyHeadBytes || key[0] != '\0') return std::nullopt;
  return static_cast<int64_t>(GetBigEndian(key, 9));
}

void EncodeStoredEvent(const UsageEvent& e, const Cost& cost, std::string_view catalog_version,
                       std::string& out) {
  // The worst case: every varint at its longest.
  size_t bound = 1 + EventFieldsBound(e) + 1 + 9 * kMaxVarint + catalog_version.size();
  size_t at = out.size();
  out.resize(at + bound);
  char* p = out.data() + at;
  *p++ = kVersion;
  p = PutEventFields(p, e, cost.total ? kHasCost : 0);
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

std::optional<StoredEvent> DecodeStoredEvent(std::string_view row) {
  if (row.empty() || row[0] != kVersion) return std::nullopt;
  VarintReader r(row.substr(1));
  EventFieldViews v;
  ReadEventFields(r, v);
  StoredEvent out;
  Cost& cost = out.cost;
  cost.source = static_cast<CostSource>(r.Byte());
  if (v.bits & kHasCost) cost.total = NanoUsd{r.Signed()};
  for (NanoUsd* part : {&cost.input, &cost.cached, &cost.cache_write, &cost.output, &cost.reasoning}) {
    part->value = r.Signed();
  }
  cost.tier_threshold = r.Varint();
  cost.flags = static_cast<uint32_t>(r.Varint());
  out.catalog_version = r.Text();
  if (!r.ok() || !r.done()) return std::nullopt;
  if (v.data_mode > static_cast<uint8_t>(DataMode::kDemo) ||
      ((v.bits & kHasStatus) && v.status > static_cast<uint8_t>(CallStatus::kCancelled)) ||
      cost.source > CostSource::kWorkspaceOverride) {
    return std::nullopt;
  }
  AssignEventFields(v, out.event);
  return out;
}

std::optional<StoredEventJson> StoredEventToJson(std::string_view row) {
  std::optional<StoredEvent> stored = DecodeStoredEvent(row);
  if (!stored) return std::nullopt;
  StoredEventJson out;
  EncodeCanonical(stored->event, out.event);
  AppendCostJson(stored->cost, stored->catalog_version, out.cost);
  return out;
}

}  // namespace tokenmeter
