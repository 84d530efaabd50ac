#include "dedup_record.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "state/fixed_codec.h"

namespace tokenmeter {
namespace {

// The bytes Fingerprint() hashes: fixed-width little-endian numbers, texts prefixed by
// their length, optionals by a presence byte.
class FieldWriter {
 public:
  explicit FieldWriter(std::string& out) : out_(out) { out_.clear(); }
  void Num(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, 8);
  }
  void Text(std::string_view s) {
    Num(s.size());
    out_.append(s);
  }
  template <typename T, typename F>
  void Opt(const std::optional<T>& v, F value) {
    out_.push_back(v ? 1 : 0);
    if (v) Num(value(*v));
  }

 private:
  std::string& out_;
};

// MurmurHash64A's mixing over little-endian 8-byte words (the byte order is fixed so the
// stored value is the same on any machine).
uint64_t Hash64(std::string_view s) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ull;
  constexpr int r = 47;
  uint64_t h = 0x5bd1e9955bd1e995ull ^ (s.size() * m);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t k;
    std::memcpy(&k, s.data() + i, 8);
    if constexpr (std::endian::native == std::endian::big) k = __builtin_bswap64(k);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  if (i < s.size()) {
    uint64_t k = 0;
    for (size_t j = 0; i + j < s.size(); ++j) k |= static_cast<uint64_t>(static_cast<unsigned char>(s[i + j])) << (8 * j);
    h ^= k;
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

constexpr char kVersion = 3;
constexpr size_t kRecordSize = 1 + 8 + 4 + 8 + kEventKeyHeadBytes;

bool Readable(std::string_view b) { return b.size() == kRecordSize && b[0] == kVersion; }

// The event time as content: a defaulted time is the receive time, which is not what the
// call was, so it hashes as one value no given time can be (-1 ms is before 1970, which
// validation refuses). A given time hashes as its milliseconds.
uint64_t OccurredAtContent(const UsageEvent& e) {
  if (e.occurred_at_defaulted) return ~uint64_t{0};
  return static_cast<uint64_t>(e.occurred_at.time_since_epoch().count());
}

}  // namespace

void DedupRecord::EncodeTo(std::string& out, std::string_view key) const {
  char b[kRecordSize];
  b[0] = kVersion;
  StoreFixed64(b + 1, first_seen_ms);
  const uint32_t a = attempts;
  for (int i = 0; i < 4; ++i) b[9 + i] = static_cast<char>((a >> (8 * i)) & 0xff);
  StoreFixed64(b + 13, static_cast<int64_t>(fingerprint));
  std::memcpy(b + 21, key.data(), std::min(key.size(), kEventKeyHeadBytes));
  out.assign(b, sizeof(b));
}

std::optional<int64_t> DedupRecord::FirstSeenMs(std::string_view b) {
  if (!Readable(b)) return std::nullopt;
  return GetFixed64(b, 1);
}

std::optional<DedupRecord> DedupRecord::Decode(std::string_view b, std::string_view dedup_key) {
  if (!Readable(b)) return std::nullopt;
  DedupRecord r;
  r.first_seen_ms = GetFixed64(b, 1);
  uint32_t a = 0;
  for (int i = 0; i < 4; ++i) a |= static_cast<uint32_t>(static_cast<unsigned char>(b[9 + i])) << (8 * i);
  r.attempts = a;
  r.fingerprint = static_cast<uint64_t>(GetFixed64(b, 13));
  r.event_key.reserve(kEventKeyHeadBytes + dedup_key.size());
  r.event_key.assign(b.substr(21));
  r.event_key.append(dedup_key);
  return r;
}

std::string DedupKey(std::string_view workspace, std::string_view request_id) {
  std::string k;
  AppendDedupKey(workspace, request_id, k);
  return k;
}

void AppendDedupKey(std::string_view workspace, std::string_view request_id, std::string& out) {
  out.append(workspace);
  out.push_back('\0');
  out.append(request_id);
}

void AppendDedupRowKey(int64_t key_ms, std::string_view id, std::string& out) {
  out.push_back('\0');
  AppendBigEndian(out, static_cast<uint64_t>(key_ms), 8);
  out.append(id);
}

std::optional<DedupRowKey> ParseDedupRowKey(std::string_view key) {
  if (key.size() <= kDedupRowHeadBytes || key[0] != '\0') return std::nullopt;
  return DedupRowKey{static_cast<int64_t>(GetBigEndian(key, 1)), key.substr(kDedupRowHeadBytes)};
}

void SortDedupRowKeys(std::string_view bytes, std::vector<DedupRowKeyRef>& refs,
                      std::vector<std::string_view>& views) {
  for (DedupRowKeyRef& r : refs) r.order = GetBigEndian(bytes, r.begin + 1);
  std::sort(refs.begin(), refs.end(), [](const DedupRowKeyRef& a, const DedupRowKeyRef& b) {
    return a.order != b.order ? a.order < b.order : a.id < b.id;
  });
  views.clear();
  size_t kept = 0;
  for (const DedupRowKeyRef& r : refs) {
    std::string_view v = bytes.substr(r.begin, r.size);
    if (!views.empty() && views.back() == v) continue;
    views.push_back(v);
    refs[kept++] = r;
  }
  refs.resize(kept);
}

uint64_t DedupIdHash(std::string_view id) { return Hash64(id); }

uint64_t Fingerprint(const UsageEvent& e) {
  thread_local std::string bytes;
  FieldWriter w(bytes);
  for (const std::string* s : {&e.workspace, &e.request_id, &e.provider, &e.model, &e.model_raw, &e.endpoint_tag,
                               &e.prompt_version, &e.project, &e.project_raw, &e.environment, &e.user_id,
                               &e.tenant_id}) {
    w.Text(*s);
  }
  for (uint64_t v : {static_cast<uint64_t>(e.data_mode), e.input_tokens, e.output_tokens, e.cached_tokens,
                     e.cache_write_tokens, e.cache_write_1h_tokens, e.reasoning_tokens,
                     OccurredAtContent(e), static_cast<uint64_t>(e.warnings)}) {
    w.Num(v);
  }
  w.Opt(e.total_tokens, [](TokenCount t) { return t; });
  w.Opt(e.latency_ms, [](uint32_t t) { return static_cast<uint64_t>(t); });
  w.Opt(e.status, [](CallStatus s) { return static_cast<uint64_t>(s); });
  w.Opt(e.estimated_cost, [](NanoUsd c) { return static_cast<uint64_t>(c.value); });
  return Hash64(bytes);
}

}  // namespace tokenmeter
