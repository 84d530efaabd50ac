#include "rollup.h"

#include <rocksdb/merge_operator.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "state/fixed_codec.h"

namespace tokenmeter {
namespace {

class RollupMerge final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    RollupCounters sum = existing ? RollupCounters::Decode({existing->data(), existing->size()})
                                  : RollupCounters{};
    sum.AddEncoded({value.data(), value.size()});
    *new_value = sum.Encode();
    return true;
  }
  const char* Name() const override { return "tokenmeter.RollupMerge.v1"; }
};

}  // namespace

namespace {

// Counters are sums of what the rows were given; only damaged bytes (read back from disk)
// could push one past int64, where a signed + is undefined: every addition of stored
// counts wraps instead (found by the state_rows fuzz target under UBSan).
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Bucket edges 1.1^(i-1) for i = 1.., computed by the same repeated multiplication as
// always (so a stored bucket number keeps its meaning), up to past UINT32_MAX ms.
const std::vector<double>& BucketEdges() {
  static const std::vector<double> edges = [] {
    std::vector<double> e;
    double edge = 1.0;
    e.push_back(edge);  // bucket 1
    while (edge < 4294967296.0) {
      edge *= 1.1;
      e.push_back(edge);
    }
    return e;
  }();
  return edges;
}

// Adds `count` buckets, the i-th given by at(i), sorted by bucket, distinct and with
// non-zero counts, into `mine` (sorted): shared buckets summed, new ones appended and
// merged into place (one pass, not a search and an insert per bucket), a bucket summed
// to zero dropped.
template <typename At>
void MergeSortedBuckets(std::vector<std::pair<uint16_t, int64_t>>& mine, size_t count, At at) {
  const size_t had = mine.size();
  if (had == 0) mine.reserve(count);
  size_t a = 0;  // next of the sketch's own buckets (the first `had`)
  bool emptied = false;
  for (size_t i = 0; i < count; ++i) {
    auto [bucket, n] = at(i);
    while (a < had && mine[a].first < bucket) ++a;
    if (a < had && mine[a].first == bucket) {
      mine[a].second = WrapAdd(mine[a].second, n);
      emptied = emptied || mine[a].second == 0;
    } else {
      mine.emplace_back(bucket, n);
    }
  }
  if (mine.size() > had)
    std::inplace_merge(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(had), mine.end());
  if (emptied)
    std::erase_if(mine, [](const std::pair<uint16_t, int64_t>& b) { return b.second == 0; });
}

}  // namespace

uint16_t LatencySketch::BucketOf(uint32_t ms) {
  if (ms == 0) return 0;
  // Smallest i >= 1 with 1.1^(i-1) >= ms.
  const std::vector<double>& e = BucketEdges();
  auto it = std::lower_bound(e.begin(), e.end(), static_cast<double>(ms));
  return static_cast<uint16_t>(1 + (it - e.begin()));
}

void LatencySketch::AddCount(uint16_t bucket, int64_t n) {
  auto it = std::lower_bound(buckets.begin(), buckets.end(), bucket,
                             [](const std::pair<uint16_t, int64_t>& p, uint16_t b) { return p.first < b; });
  if (it != buckets.end() && it->first == bucket) {
    it->second = WrapAdd(it->second, n);
    if (it->second == 0) buckets.erase(it);  // taken back (BatchRollups::Remove)
    return;
  }
  if (buckets.size() == buckets.capacity() && buckets.size() < 8) {
    // A row's sketch grows a bucket at a time: start at 8 instead of doubling from 1.
    size_t at = static_cast<size_t>(it - buckets.begin());
    buckets.reserve(8);
    it = buckets.begin() + static_cast<std::ptrdiff_t>(at);
  }
  buckets.insert(it, {bucket, n});
}

void LatencySketch::Merge(const LatencySketch& o) {
  if (o.buckets.size() == 1) {  // an event's own sketch: AddCount keeps a row's growth policy
    AddCount(o.buckets[0].first, o.buckets[0].second);
    return;
  }
  MergeSortedBuckets(buckets, o.buckets.size(), [&o](size_t i) { return o.buckets[i]; });
}

std::optional<uint64_t> LatencySketch::Quantile(double q) const {
  int64_t total = 0;
  for (const auto& [b, n] : buckets) total = WrapAdd(total, n);
  if (total == 0) return std::nullopt;
  // The rank of the quantile, 1-based, rounded up.
  int64_t rank = static_cast<int64_t>(q * static_cast<double>(total));
  if (static_cast<double>(rank) < q * static_cast<double>(total)) ++rank;
  if (rank < 1) rank = 1;
  int64_t seen = 0;
  for (const auto& [b, n] : buckets) {
    seen = WrapAdd(seen, n);
    if (seen >= rank) {
      if (b == 0) return 0;
      double edge = 1.0;
      for (uint16_t i = 1; i < b; ++i) edge *= 1.1;
      return static_cast<uint64_t>(std::ceil(edge - 1e-9));
    }
  }
  return std::nullopt;
}

std::string RollupCounters::Encode() const {
  std::string out;
  out.reserve(EncodedSize());
  AppendTo(out);
  return out;
}

void RollupCounters::AppendTo(std::string& out) const {
  // Sized once and written in place: a batch encodes one value per distinct row.
  size_t base = out.size();
  out.resize(base + EncodedSize());
  char* at = out.data() + base;
  for (size_t i = 0; i < kRollupFields; ++i, at += 8) StoreFixed64(at, v[i]);
  for (const auto& [bucket, n] : latency.buckets) {
    at[0] = static_cast<char>(bucket & 0xff);
    at[1] = static_cast<char>(bucket >> 8);
    StoreFixed64(at + 2, n);
    at += 10;
  }
}

RollupCounters RollupCounters::Decode(std::string_view bytes) {
  RollupCounters c;
  c.AddEncoded(bytes);
  return c;
}

void RollupCounters::AddEncoded(std::string_view bytes) {
  size_t fields = std::min<size_t>(bytes.size() / 8, kRollupFields);
  for (size_t i = 0; i < fields; ++i) v[i] = WrapAdd(v[i], GetFixed64(bytes, i * 8));
  constexpr size_t first = kRollupFields * 8;
  if (bytes.size() < first + 10) return;
  const size_t count = (bytes.size() - first) / 10;
  auto bucket_at = [&bytes](size_t i) {
    size_t at = first + i * 10;
    return std::pair<uint16_t, int64_t>(
        static_cast<uint16_t>(static_cast<unsigned char>(bytes[at]) |
                              static_cast<unsigned char>(bytes[at + 1]) << 8),
        GetFixed64(bytes, at + 2));
  };
  // AppendTo writes the buckets sorted, with non-zero counts: one linear merge. Bytes
  // that are not so go bucket by bucket through AddCount.
  bool sorted = true;
  for (size_t i = 0, prev = 0; i < count && sorted; ++i) {
    auto [bucket, n] = bucket_at(i);
    sorted = n != 0 && (i == 0 || prev < bucket);
    prev = bucket;
  }
  if (sorted) {
    MergeSortedBuckets(latency.buckets, count, bucket_at);
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    auto [bucket, n] = bucket_at(i);
    latency.AddCount(bucket, n);
  }
}

char* RollupCounters::PutCompact(char* p) const {
  uint64_t mask = 0;
  for (size_t i = 0; i < kRollupFields; ++i) mask |= static_cast<uint64_t>(v[i] != 0) << i;
  p = PutVarint(p, mask);
  for (size_t i = 0; i < kRollupFields; ++i) {
    if (v[i] != 0) p = PutSigned(p, v[i]);
  }
  p = PutVarint(p, latency.buckets.size());
  uint16_t prev = 0;
  for (const auto& [bucket, n] : latency.buckets) {  // sorted, distinct, counts non-zero
    p = PutVarint(p, bucket - prev);
    p = PutSigned(p, n);
    prev = bucket;
  }
  return p;
}

bool RollupCounters::AddCompact(VarintReader& r) {
  uint64_t mask = r.Varint();
  if (!r.ok() || (mask >> kRollupFields) != 0) return false;
  for (size_t i = 0; i < kRollupFields; ++i) {
    if ((mask >> i) & 1) v[i] = WrapAdd(v[i], r.Signed());
  }
  uint64_t count = r.Varint();
  if (!r.ok() || count > 0x10000) return false;
  thread_local std::vector<std::pair<uint16_t, int64_t>> read;
  read.clear();
  uint64_t bucket = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t gap = r.Varint();
    int64_t n = r.Signed();
    if (!r.ok() || gap > 0xffff || (i > 0 && gap == 0) || n == 0) return false;
    bucket += gap;
    if (bucket > 0xffff) return false;
    read.emplace_back(static_cast<uint16_t>(bucket), n);
  }
  if (read.size() == 1) {
    latency.AddCount(read[0].first, read[0].second);  // keeps a row's growth policy
  } else if (!read.empty()) {
    MergeSortedBuckets(latency.buckets, read.size(), [](size_t i) { return read[i]; });
  }
  return true;
}

int64_t BucketSpanMs(Granularity g) {
  return g == Granularity::kMinute ? 60'000 : g == Granularity::kHour ? 3'600'000 : 86'400'000;
}

TimePoint BucketStart(TimePoint t, Granularity g) {
  long long ms = t.time_since_epoch().count();
  long long size = BucketSpanMs(g);
  long long start = ms >= 0 ? ms - ms % size : ms - ((ms % size) + size) % size;
  return TimePoint(std::chrono::milliseconds(start));
}

std::string RollupKey(std::string_view workspace, DataMode mode, Granularity g, Dimension d,
                      TimePoint bucket, RollupScope scope, std::string_view value) {
  std::string k;
  k.reserve(workspace.size() + scope.environment.size() + scope.project.size() + value.size() + 20);
  AppendRollupKey(k, workspace, mode, g, d, bucket, scope, value);
  return k;
}

void AppendRollupKey(std::string& k, std::string_view workspace, DataMode mode, Granularity g, Dimension d,
                     TimePoint bucket, RollupScope scope, std::string_view value) {
  // Sized once and written in place (a push_back per byte was ~400 instructions a key,
  // ~7 keys an event).
  size_t at = k.size();
  k.resize(at + workspace.size() + 7 + 8 + scope.environment.size() + 1 + scope.project.size() + 1 + value.size());
  char* p = k.data() + at;
  auto put = [&p](std::string_view s) {
    if (s.empty()) return;  // an empty view's data() may be null, which memcpy may not take
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(workspace);
  *p++ = '\0';
  *p++ = static_cast<char>('0' + static_cast<int>(mode));
  *p++ = '\0';
  *p++ = static_cast<char>(g);
  *p++ = '\0';
  *p++ = static_cast<char>(d);
  *p++ = '\0';
  auto ms = static_cast<uint64_t>(bucket.time_since_epoch().count());
  for (int shift = 56; shift >= 0; shift -= 8) *p++ = static_cast<char>((ms >> shift) & 0xff);
  put(scope.environment);
  *p++ = '\0';
  put(scope.project);
  *p++ = '\0';
  put(value);
}

size_t RollupGranularityAt(std::string_view key) { return key.find('\0') + 3; }

void CoarserRollupKey(std::string_view minute_key, Granularity g, std::string& k) {
  size_t gran_at = RollupGranularityAt(minute_key);
  uint64_t minute = GetBigEndian(minute_key, gran_at + 4, 8);
  TimePoint start = BucketStart(TimePoint(std::chrono::milliseconds(static_cast<int64_t>(minute))), g);
  k.assign(minute_key.substr(0, gran_at + 4));
  k[gran_at] = static_cast<char>(g);
  AppendBigEndian(k, static_cast<uint64_t>(start.time_since_epoch().count()));
  k.append(minute_key.substr(gran_at + 12));
}

void CountersOfCall(const UsageEvent& e, std::optional<int64_t> cost_nano, RollupCounters& c) {
  c.v = {};
  c.latency.buckets.clear();
  c.v[kRequests] = 1;
  const bool ok = !e.status || *e.status == CallStatus::kSuccess;
  c.v[ok ? kSuccesses : kErrors] = 1;
  c.v[kInputTokens] = static_cast<int64_t>(e.input_tokens);
  c.v[kOutputTokens] = static_cast<int64_t>(e.output_tokens);
  c.v[kCachedTokens] = static_cast<int64_t>(e.cached_tokens);
  c.v[kCacheWriteTokens] = static_cast<int64_t>(e.cache_write_tokens + e.cache_write_1h_tokens);
  c.v[kReasoningTokens] = static_cast<int64_t>(e.reasoning_tokens);
  if (cost_nano) {
    c.v[kCostNano] = *cost_nano;
  } else {
    c.v[kUnpriced] = 1;
  }
  if (e.latency_ms) {
    c.v[kLatencySumMs] = *e.latency_ms;
    c.v[kLatencyCount] = 1;
    c.latency.Add(*e.latency_ms);
  }
}

std::optional<RollupBucket> RollupBucketOf(std::string_view key) {
  const size_t nul = key.find('\0');
  if (nul == std::string_view::npos) return std::nullopt;
  const size_t gran_at = nul + 3;
  if (key.size() < gran_at + 12) return std::nullopt;
  const auto g = static_cast<Granularity>(key[gran_at]);
  if (g != Granularity::kMinute && g != Granularity::kHour && g != Granularity::kDay) return std::nullopt;
  return RollupBucket{g, static_cast<int64_t>(GetBigEndian(key, gran_at + 4, 8))};
}

std::shared_ptr<rocksdb::MergeOperator> RollupMergeOperator() {
  return std::make_shared<RollupMerge>();
}

}  // namespace tokenmeter
