#include "rollup.h"

#include <rocksdb/merge_operator.h>

#include <cstring>

namespace tokenmeter {
namespace {

void AppendBigEndian64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

class RollupMerge final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    RollupCounters sum = existing ? RollupCounters::Decode({existing->data(), existing->size()})
                                  : RollupCounters{};
    sum.Add(RollupCounters::Decode({value.data(), value.size()}));
    *new_value = sum.Encode();
    return true;
  }
  const char* Name() const override { return "tokenmeter.RollupMerge.v1"; }
};

}  // namespace

std::string RollupCounters::Encode() const {
  std::string out(kRollupFields * 8, '\0');
  for (size_t i = 0; i < kRollupFields; ++i) {
    uint64_t x = static_cast<uint64_t>(v[i]);
    for (int b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<char>((x >> (8 * b)) & 0xff);
  }
  return out;
}

RollupCounters RollupCounters::Decode(std::string_view bytes) {
  RollupCounters c;
  size_t n = std::min<size_t>(bytes.size() / 8, kRollupFields);
  for (size_t i = 0; i < n; ++i) {
    uint64_t x = 0;
    for (int b = 0; b < 8; ++b) x |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i * 8 + b])) << (8 * b);
    c.v[i] = static_cast<int64_t>(x);
  }
  return c;
}

TimePoint BucketStart(TimePoint t, Granularity g) {
  long long ms = t.time_since_epoch().count();
  long long size = g == Granularity::kMinute ? 60'000 : g == Granularity::kHour ? 3'600'000 : 86'400'000;
  long long start = ms >= 0 ? ms - ms % size : ms - ((ms % size) + size) % size;
  return TimePoint(std::chrono::milliseconds(start));
}

std::string RollupKey(std::string_view workspace, DataMode mode, Granularity g, Dimension d,
                      TimePoint bucket, std::string_view environment, std::string_view value) {
  std::string k;
  k.reserve(workspace.size() + environment.size() + value.size() + 20);
  k.append(workspace);
  k.push_back('\0');
  k.push_back(static_cast<char>('0' + static_cast<int>(mode)));
  k.push_back('\0');
  k.push_back(static_cast<char>(g));
  k.push_back('\0');
  k.push_back(static_cast<char>(d));
  k.push_back('\0');
  AppendBigEndian64(k, static_cast<uint64_t>(bucket.time_since_epoch().count()));
  k.append(environment);
  k.push_back('\0');
  k.append(value);
  return k;
}

std::shared_ptr<rocksdb::MergeOperator> RollupMergeOperator() {
  return std::make_shared<RollupMerge>();
}

}  // namespace tokenmeter
