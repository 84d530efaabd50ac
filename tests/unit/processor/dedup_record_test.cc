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

TEST(DedupRecordTest, FingerprintIsTheSameInEveryBuild) {
  // Stored in dedup records: a build that hashed differently would call every retry of
  // an already recorded event a conflict. A change here needs a new FingerprintKind.
  EXPECT_EQ(Fingerprint(testing::FullEvent()), 0x1bb9d923b668ddddull);
}

TEST(DedupRecordTest, RecordsRoundTripWithTheirFingerprintKind) {
  for (FingerprintKind kind : {FingerprintKind::kCanonicalJson, FingerprintKind::kFields}) {
    DedupRecord r{1770465600000, 7, 0x0123456789abcdefull, std::string("acme\0" "0\0key", 11), kind};
    std::optional<DedupRecord> back = DedupRecord::Decode(r.Encode());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->first_seen_ms, r.first_seen_ms);
    EXPECT_EQ(back->attempts, 7u);
    EXPECT_EQ(back->fingerprint, r.fingerprint);
    EXPECT_EQ(back->event_key, r.event_key);
    EXPECT_EQ(back->kind, kind);
  }
  std::string unknown = DedupRecord{}.Encode();
  unknown[0] = 3;
  EXPECT_FALSE(DedupRecord::Decode(unknown).has_value()) << "a record from a newer build is not guessed at";
  EXPECT_FALSE(DedupRecord::Decode(DedupRecord{}.Encode().substr(0, 24)).has_value());
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
