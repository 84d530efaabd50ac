// Rollups: counters per (workspace, data mode, granularity, dimension, bucket, scope
// (environment and project), value), summed with a RocksDB merge operator so a batch writes blind
// merges instead of read-modify-write. Value layout: kRollupFields little-endian int64.
// Pure functions and a stateless merge operator; any thread.
#ifndef TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_H_
#define TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/base/varint.h"
#include "tokenmeter/model/usage_event.h"

namespace rocksdb {
class MergeOperator;
}

namespace tokenmeter {

enum RollupField : size_t {
  kRequests, kSuccesses, kErrors, kDuplicates, kInputTokens, kOutputTokens, kCachedTokens,
  kCacheWriteTokens, kReasoningTokens, kCostNano, kUnpriced, kLatencySumMs, kLatencyCount,
  kRollupFields
};

// A mergeable latency sketch: counts per log-spaced bucket (ratio 1.1, so a reported
// quantile is within 10% of the true one), only non-empty buckets kept. Bucket 0 holds
// 0 ms; bucket i >= 1 holds latencies in (1.1^(i-2), 1.1^(i-1)] ms.
// Kept as a vector sorted by bucket: a row holds a few dozen buckets at most, and the
// per-event sketch one, so a flat merge beats a node per bucket on the hot path.
struct LatencySketch {
  std::vector<std::pair<uint16_t, int64_t>> buckets;  // sorted by bucket, counts > 0
  void Add(uint32_t latency_ms) { AddCount(BucketOf(latency_ms), 1); }
  void AddCount(uint16_t bucket, int64_t n);
  void Merge(const LatencySketch& o);
  static uint16_t BucketOf(uint32_t latency_ms);
  // The upper edge (ms, rounded up) of the bucket holding quantile q in (0, 1]; nullopt
  // when empty.
  std::optional<uint64_t> Quantile(double q) const;
  friend bool operator==(const LatencySketch&, const LatencySketch&) = default;
};

struct RollupCounters {
  std::array<int64_t, kRollupFields> v{};
  LatencySketch latency;
  void Add(const RollupCounters& o) {
    for (size_t i = 0; i < kRollupFields; ++i) v[i] += o.v[i];
    latency.Merge(o.latency);
  }
  // kRollupFields little-endian int64, then (u16 bucket, i64 count) pairs.
  std::string Encode() const;
  size_t EncodedSize() const { return kRollupFields * 8 + latency.buckets.size() * 10; }
  void AppendTo(std::string& out) const;  // Encode(), appended
  static RollupCounters Decode(std::string_view bytes);  // short input reads as zeros
  // Add(Decode(bytes)), without the intermediate object.
  void AddEncoded(std::string_view bytes);
  // The compact form (the rollup journal's rows): a varint mask of the non-zero fields,
  // each of those as a zigzag varint, the bucket count, then per bucket its distance from
  // the previous bucket (from 0 for the first) and its count (zigzag). A one-event row
  // takes ~15 bytes against EncodedSize()'s 114. PutCompact writes at `p`, which has room
  // for CompactBound() bytes, and returns the position after what it wrote.
  size_t CompactBound() const {
    return (2 + kRollupFields + 2 * latency.buckets.size()) * kMaxVarint;
  }
  char* PutCompact(char* p) const;
  // Adds a row PutCompact wrote, read from `r`. False when the bytes are not such a row
  // (cut short, an unknown field, buckets out of order or past 65535, a zero count); the
  // counters may then hold part of it.
  bool AddCompact(VarintReader& r);
  friend bool operator==(const RollupCounters&, const RollupCounters&) = default;
};

// The counters one counted call adds to each of its rows, into `c` (reused between
// calls: its latency sketch keeps its one-bucket buffer, not a fresh allocation per
// call). `cost_nano`: its exact cost, nullopt when unpriced. A call reported without a
// status counts as a success.
void CountersOfCall(const UsageEvent& e, std::optional<int64_t> cost_nano, RollupCounters& c);

// One row of a batch's rollup deltas: its key and its counters, both owned elsewhere
// (BatchRollups::Finish says for how long they stay valid).
struct RollupDelta {
  std::string_view key;
  const RollupCounters* counters;
};
using RollupDeltas = std::vector<RollupDelta>;  // sorted by key, keys distinct

enum class Granularity : char { kMinute = 'm', kHour = 'h', kDay = 'd' };
inline constexpr Granularity kGranularities[] = {Granularity::kMinute, Granularity::kHour,
                                                 Granularity::kDay};

// What a rollup row is grouped by, within its scope. User and tenant rows of events
// without one have the value "" (listed as "unknown"); kUnpricedModel rows count only
// events left unpriced, by "provider/model". Projects and environments are not
// dimensions: every row is kept per scope, so each view can be narrowed to one project
// or environment, and the kTotal rows grouped by scope list them. The pair dimensions
// group by two attributes, their value "feature \0 prompt version" (kFeaturePrompt, events
// that name one) and "feature \0 model" (kFeatureModel): a feature's prompt versions and
// models, or a prompt version's or a model's features (feature "unknown" when not given).
enum class Dimension : char {
  kTotal = 't', kEndpointTag = 'e', kPromptVersion = 'p', kModel = 'm', kProvider = 'v',
  kUser = 'u', kTenant = 'n', kStatus = 's', kUnpricedModel = 'x', kFeaturePrompt = 'P',
  kFeatureModel = 'M'
};

// Where a row's events were sent from: their environment and project ("" for an event
// without a project).
struct RollupScope {
  std::string_view environment;
  std::string_view project;
};

// A bucket's length in milliseconds.
int64_t BucketSpanMs(Granularity g);
// Start of the bucket holding `t` (UTC; days start at 00:00 UTC).
TimePoint BucketStart(TimePoint t, Granularity g);

// ws \0 mode \0 gran \0 dim \0 bucket(8 bytes big-endian) env \0 project \0 value. Every
// text part is validated free of control characters, so \0 cannot occur inside one.
std::string RollupKey(std::string_view workspace, DataMode mode, Granularity g, Dimension d,
                      TimePoint bucket, RollupScope scope, std::string_view value);
// The same, appended to `out` (a reused buffer on the hot path).
void AppendRollupKey(std::string& out, std::string_view workspace, DataMode mode, Granularity g, Dimension d,
                     TimePoint bucket, RollupScope scope, std::string_view value);

// Where a rollup key's granularity byte is (after "ws \0 mode \0"); the 8-byte bucket
// starts 4 bytes later (gran \0 dim \0 bucket, see RollupKey).
size_t RollupGranularityAt(std::string_view key);
// Where its dimension byte is (two after the granularity byte).
inline size_t RollupDimensionAt(std::string_view key) { return RollupGranularityAt(key) + 2; }
// The key of the `g` row that the 1-minute row `minute_key` also counts in: the same key
// with the granularity byte and the bucket changed.
void CoarserRollupKey(std::string_view minute_key, Granularity g, std::string& out);  // replaces `out`

// A rollup key's granularity and bucket start; nullopt when the key is too short to hold
// them or names no granularity.
struct RollupBucket {
  Granularity granularity;
  int64_t start_ms;
};
std::optional<RollupBucket> RollupBucketOf(std::string_view key);

// The RocksDB merge operator for the rollups column family: adds counters field by field.
std::shared_ptr<rocksdb::MergeOperator> RollupMergeOperator();

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_H_
