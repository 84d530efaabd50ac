// The dedup record, the order of its row keys, and the content fingerprint: what a retry
// must match and what makes a conflict.
#include "dedup/dedup_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <vector>

#include "dedup/dedup_index.h"
#include "test_events.h"

namespace tokenmeter {
namespace {

TEST(DedupRecordTest, FingerprintIgnoresReceiveTimeAndKeyButSeesEveryContentField) {
  const UsageEvent base = testing::FullEvent();
  const uint64_t fp = Fingerprint(base);
  UsageEvent retry = base;
  retry.received_at += std::chrono::seconds(30);
  retry.api_key_id = "KEYID0000002";
  EXPECT_EQ(Fingerprint(retry), fp) << "a retry through another key, later, is the same call";

  std::vector<std::function<void(UsageEvent&)>> changes = {
      [](UsageEvent& e) { e.workspace = "acme2"; },
      [](UsageEvent& e) { e.request_id += "x"; },
      [](UsageEvent& e) { e.provider = "openai"; },
      [](UsageEvent& e) { e.model = "claude-3-5-sonnet"; },
      [](UsageEvent& e) { e.model_raw = "claude-3-5-haiku"; },
      [](UsageEvent& e) { e.endpoint_tag = "search"; },
      [](UsageEvent& e) { e.prompt_version = "summarizer_v4"; },
      [](UsageEvent& e) { e.project = "web"; },
      [](UsageEvent& e) { e.project_raw.clear(); },
      [](UsageEvent& e) { e.environment = "prod"; },
      [](UsageEvent& e) { e.data_mode = DataMode::kTest; },
      [](UsageEvent& e) { e.user_id = "user-2"; },
      [](UsageEvent& e) { e.tenant_id.clear(); },
      [](UsageEvent& e) { e.input_tokens += 1; },
      [](UsageEvent& e) { e.output_tokens += 1; },
      [](UsageEvent& e) { e.cached_tokens += 1; },
      [](UsageEvent& e) { e.cache_write_tokens += 1; },
      [](UsageEvent& e) { e.cache_write_1h_tokens += 1; },
      [](UsageEvent& e) { e.reasoning_tokens += 1; },
      [](UsageEvent& e) { e.total_tokens.reset(); },
      [](UsageEvent& e) { e.total_tokens = 0; },
      [](UsageEvent& e) { e.latency_ms = 821; },
      [](UsageEvent& e) { e.status = CallStatus::kSuccess; },
      [](UsageEvent& e) { e.status.reset(); },
      [](UsageEvent& e) { e.estimated_cost = NanoUsd{123456790}; },
      [](UsageEvent& e) { e.occurred_at += std::chrono::milliseconds(1); },
      [](UsageEvent& e) { e.occurred_at_defaulted = true; },
      [](UsageEvent& e) { e.warnings = kWarnTotalTokensMismatch; },
      // Text boundaries count: "user-1" + "tenant-é" is not "user-1t" + "enant-é".
      [](UsageEvent& e) { e.user_id = "user-1t"; e.tenant_id = "enant-\xc3\xa9"; },
  };
  std::set<uint64_t> seen = {fp};
  for (size_t i = 0; i < changes.size(); ++i) {
    UsageEvent e = base;
    changes[i](e);
    EXPECT_TRUE(seen.insert(Fingerprint(e)).second) << "change " << i << " left the fingerprint equal to another's";
  }
}

TEST(DedupRecordTest, ADefaultedEventTimeIsNotContent) {
  // No time from the client: the event time is each copy's receive time.
  UsageEvent first = testing::FullEvent();
  first.occurred_at_defaulted = true;
  first.occurred_at = first.received_at;
  UsageEvent retry = first;
  retry.received_at += std::chrono::hours(72);
  retry.occurred_at = retry.received_at;
  EXPECT_EQ(Fingerprint(retry), Fingerprint(first));
  UsageEvent timed = first;
  timed.occurred_at_defaulted = false;
  EXPECT_NE(Fingerprint(timed), Fingerprint(first)) << "a given time at the same instant is content";
}

TEST(DedupRecordTest, FingerprintIsTheSameInEveryBuild) {
  // Stored in dedup records: a build that hashed differently would call every retry of
  // an already recorded event a conflict. A change here needs a new state format.
  EXPECT_EQ(Fingerprint(testing::FullEvent()), 0x1bb9d923b668ddddull);
}

// A record keeps the head of its event row's key (the rest is its own id) in 39 bytes.
TEST(DedupRecordTest, ARecordRoundTripsInThirtyNineBytes) {
  const std::string dedup_key = DedupKey("acme", "req-0001");
  std::string head(kEventKeyHeadBytes, '\0');
  for (size_t i = 1; i < head.size(); ++i) head[i] = static_cast<char>(0x80 + i);
  const std::string event_key = head + dedup_key;
  DedupRecord r{1770465600123, 4000000000u, 0xfedcba9876543210ull, ""};
  std::string bytes;
  r.EncodeTo(bytes, event_key);
  EXPECT_EQ(bytes.size(), 39u);
  EXPECT_EQ(bytes[0], 3);
  EXPECT_EQ(DedupRecord::FirstSeenMs(bytes), std::optional<int64_t>(1770465600123));
  std::optional<DedupRecord> back = DedupRecord::Decode(bytes, dedup_key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->first_seen_ms, 1770465600123);
  EXPECT_EQ(back->attempts, 4000000000u);
  EXPECT_EQ(back->fingerprint, 0xfedcba9876543210ull);
  EXPECT_EQ(back->event_key, event_key);
  EXPECT_FALSE(DedupRecord::Decode(bytes.substr(0, 38), dedup_key).has_value());
  EXPECT_FALSE(DedupRecord::Decode(bytes + "x", dedup_key).has_value());
  std::string other = bytes;
  other[0] = 2;
  EXPECT_FALSE(DedupRecord::Decode(other, dedup_key).has_value()) << "no other version is read";
  EXPECT_FALSE(DedupRecord::FirstSeenMs(other).has_value());
}

// A batch's dedup row keys are sorted as integers (key time, then the id's position
// among the batch's sorted ids) and read with MultiGet told they are sorted: the order
// must be exactly the keys' bytewise order, each key once, whatever the mix of times and
// repeats.
TEST(SortDedupRowKeysTest, TheIntegerOrderIsTheKeysBytewiseOrder) {
  std::mt19937 rng(7);
  std::vector<std::string> ids;  // distinct, in bytewise order, sharing long prefixes
  for (int i = 0; i < 300; ++i) {
    std::string id;
    AppendDedupKey("ws" + std::to_string(rng() % 3),
                   "req-" + std::to_string(rng() % 1000) + (rng() % 2 ? "-x" : ""), id);
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string bytes;
  std::vector<DedupRowKeyRef> refs;
  std::vector<std::string> expected;
  for (int n = 0; n < 2000; ++n) {
    const uint32_t id = static_cast<uint32_t>(rng() % ids.size());
    const size_t begin = bytes.size();
    const int64_t ms = 1'790'000'000'000 + static_cast<int64_t>(rng() % 4) * 1000 + rng() % 1000;
    const DedupIndex::Where where{DedupIndex::KeyTime(ms)};
    where.AppendRowKey(ids[id], bytes);
    refs.push_back({id, static_cast<uint32_t>(begin), static_cast<uint32_t>(bytes.size() - begin)});
    expected.push_back(bytes.substr(begin));
  }
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  ASSERT_GT(expected.size(), 500u);  // repeats were dropped, most keys kept

  std::vector<std::string_view> views;
  SortDedupRowKeys(bytes, refs, views);
  ASSERT_EQ(views.size(), expected.size());
  ASSERT_EQ(refs.size(), expected.size());
  for (size_t i = 0; i < views.size(); ++i) {
    EXPECT_EQ(views[i], expected[i]) << i;
    EXPECT_EQ(std::string_view(bytes).substr(refs[i].begin, refs[i].size), views[i]) << i;
    EXPECT_TRUE(views[i].ends_with(ids[refs[i].id])) << i;
  }
}


}  // namespace
}  // namespace tokenmeter
