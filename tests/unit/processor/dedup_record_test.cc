// The dedup record and the content fingerprint: what a retry must match, what makes a
// conflict, and that records written with the older fingerprint still compare right.
#include "dedup/dedup_record.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <vector>

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
  // an already recorded event a conflict. A change here needs a new FingerprintKind.
  EXPECT_EQ(Fingerprint(testing::FullEvent()), 0x1bb9d923b668ddddull);
}

TEST(DedupRecordTest, RecordsRoundTripWithTheirFingerprintKind) {
  for (FingerprintKind kind : {FingerprintKind::kCanonicalJson, FingerprintKind::kFields}) {
    DedupRecord r{1770465600000, 7, 0x0123456789abcdefull, std::string("acme\0" "0\0key", 11), kind};
    std::optional<DedupRecord> back = DedupRecord::Decode(r.Encode(), DedupKey("acme", "key"));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->first_seen_ms, r.first_seen_ms);
    EXPECT_EQ(back->attempts, 7u);
    EXPECT_EQ(back->fingerprint, r.fingerprint);
    EXPECT_EQ(back->event_key, r.event_key);
    EXPECT_EQ(back->kind, kind);
  }
  std::string unknown = DedupRecord{}.Encode();
  unknown[0] = 4;
  EXPECT_FALSE(DedupRecord::Decode(unknown, "").has_value())
      << "a record from a newer build is not guessed at";
  EXPECT_FALSE(DedupRecord::Decode(DedupRecord{}.Encode().substr(0, 24), "").has_value());
}

TEST(DedupRecordTest, AnEventKeyEndingInTheDedupKeyIsStoredAsItsHeadOnly) {
  // The receive-time-first event key is a head and then the dedup key the record is
  // stored under: version 3 keeps the head and rebuilds the key from the row's own key.
  const std::string dedup_key = DedupKey("acme", "req-0001");
  std::string head(kEventKeyHeadBytes, '\0');
  for (size_t i = 1; i < head.size(); ++i) head[i] = static_cast<char>(0x80 + i);
  const std::string event_key = head + dedup_key;
  DedupRecord r{1770465600123, 4000000000u, 0xfedcba9876543210ull, "", FingerprintKind::kFields};
  std::string bytes;
  r.EncodeTo(bytes, event_key, dedup_key);
  EXPECT_EQ(bytes.size(), 39u);
  EXPECT_EQ(bytes[0], 3);
  EXPECT_EQ(DedupRecord::FirstSeenMs(bytes), std::optional<int64_t>(1770465600123));
  std::optional<DedupRecord> back = DedupRecord::Decode(bytes, dedup_key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->first_seen_ms, 1770465600123);
  EXPECT_EQ(back->attempts, 4000000000u);
  EXPECT_EQ(back->fingerprint, 0xfedcba9876543210ull);
  EXPECT_EQ(back->event_key, event_key);
  EXPECT_EQ(back->kind, FingerprintKind::kFields);
  EXPECT_FALSE(DedupRecord::Decode(bytes.substr(0, 38), dedup_key).has_value());
  EXPECT_FALSE(DedupRecord::Decode(bytes + "x", dedup_key).has_value());

  // Anything else keeps the whole key: another key's tail, the older layout, the older
  // fingerprint (its version byte is its kind).
  for (const auto& [key, kind] : std::vector<std::pair<std::string, FingerprintKind>>{
           {head + DedupKey("acme", "req-0002"), FingerprintKind::kFields},
           {std::string("acme\0"
                        "0\0",
                        5) +
                "12345678req-0001",
            FingerprintKind::kFields},
           {event_key, FingerprintKind::kCanonicalJson}}) {
    DedupRecord o{1, 2, 3, "", kind};
    o.EncodeTo(bytes, key, dedup_key);
    EXPECT_EQ(bytes.size(), 25 + key.size());
    std::optional<DedupRecord> b = DedupRecord::Decode(bytes, dedup_key);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->event_key, key);
    EXPECT_EQ(b->kind, kind);
  }
}

TEST(DedupRecordTest, AnOlderRecordIsComparedWithTheFunctionThatWroteIt) {
  const UsageEvent original = testing::FullEvent();
  DedupRecord old{0, 1, CanonicalJsonFingerprint(original), "k", FingerprintKind::kCanonicalJson};
  UsageEvent retry = original;
  retry.received_at += std::chrono::seconds(5);
  EXPECT_TRUE(old.SameContent(retry, Fingerprint(retry)));
  UsageEvent other = original;
  other.output_tokens += 1;
  EXPECT_FALSE(old.SameContent(other, Fingerprint(other)));

  DedupRecord current{0, 1, Fingerprint(original), "k", FingerprintKind::kFields};
  EXPECT_TRUE(current.SameContent(retry, Fingerprint(retry)));
  EXPECT_FALSE(current.SameContent(other, Fingerprint(other)));
}

}  // namespace
}  // namespace tokenmeter
