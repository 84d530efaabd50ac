// The processors' directory: a claim's record round-trips and another format is refused;
// a partition's owner is the one live claim serving it, a claim stops counting once it
// is old (by when it was read, or by its publisher's clock), two serving claims are a
// dispute, and a stopped processor's empty claim or tombstone leaves no owner.
#include "tokenmeter/bus/processor_directory.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

using Kind = ProcessorDirectory::Owner::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ProcessorDirectoryTest, AClaimRoundTripsAndAnotherFormatIsRefused) {
  const ProcessorClaim claim{"http://127.0.0.1:8082", {0, 3}, {1}, 1765000000123};
  const std::string text = EncodeProcessorClaim(claim);
  EXPECT_EQ(text, R"({"format":1,"url":"http://127.0.0.1:8082","serving":[0,3],"catchingUp":[1],"atMs":1765000000123})");
  Result<ProcessorClaim> back = DecodeProcessorClaim(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, claim);
  EXPECT_FALSE(DecodeProcessorClaim(R"({"format":2,"url":"x","serving":[],"catchingUp":[],"atMs":1})").ok());
  EXPECT_FALSE(DecodeProcessorClaim(R"({"format":1,"url":"x","serving":[-1],"catchingUp":[],"atMs":1})").ok());
  EXPECT_FALSE(DecodeProcessorClaim("not json").ok());
}

TEST(ProcessorDirectoryTest, ThePartitionsOwnerIsTheOneLiveClaimServingIt) {
  ProcessorDirectory directory(milliseconds(5000));
  const auto t0 = std::chrono::steady_clock::time_point() + seconds(100);
  const int64_t now_ms = 1765000000000;
  directory.Apply("a", EncodeProcessorClaim({"http://a:1", {0, 1}, {2}, now_ms}), t0);
  directory.Apply("b", EncodeProcessorClaim({"http://b:1", {3}, {}, now_ms}), t0);
  directory.Apply("junk", "not a claim", t0);  // ignored

  ProcessorDirectory::Owner o = directory.OwnerOf(1, t0 + seconds(1), now_ms + 1000);
  EXPECT_EQ(o.kind, Kind::kServing);
  EXPECT_EQ(o.url, "http://a:1");
  o = directory.OwnerOf(2, t0 + seconds(1), now_ms + 1000);
  EXPECT_EQ(o.kind, Kind::kCatchingUp);
  EXPECT_EQ(o.url, "http://a:1");
  EXPECT_EQ(directory.OwnerOf(3, t0, now_ms).url, "http://b:1");
  EXPECT_EQ(directory.OwnerOf(4, t0, now_ms).kind, Kind::kNone);

  // Not heard from for longer than 5 s: no owner (the processor was killed).
  EXPECT_EQ(directory.OwnerOf(1, t0 + milliseconds(5001), now_ms).kind, Kind::kNone);
  // Read just now, but published an hour ago (read back whole at start): no owner.
  ProcessorDirectory fresh(milliseconds(5000));
  fresh.Apply("a", EncodeProcessorClaim({"http://a:1", {0}, {}, now_ms - 3600000}), t0);
  EXPECT_EQ(fresh.OwnerOf(0, t0, now_ms).kind, Kind::kNone);

  // A rebalance's moment: b claims partition 0 before a's next claim drops it.
  directory.Apply("b", EncodeProcessorClaim({"http://b:1", {0, 3}, {}, now_ms}), t0);
  EXPECT_EQ(directory.OwnerOf(0, t0, now_ms).kind, Kind::kDisputed);
  directory.Apply("a", EncodeProcessorClaim({"http://a:1", {1}, {}, now_ms}), t0);
  EXPECT_EQ(directory.OwnerOf(0, t0, now_ms).url, "http://b:1");

  // A stopped processor's empty claim, or a tombstone: nothing of it is left.
  directory.Apply("b", EncodeProcessorClaim({"http://b:1", {}, {}, now_ms}), t0);
  EXPECT_EQ(directory.OwnerOf(3, t0, now_ms).kind, Kind::kNone);
  directory.Apply("a", "", t0);
  EXPECT_EQ(directory.OwnerOf(1, t0, now_ms).kind, Kind::kNone);
}

}  // namespace
}  // namespace tokenmeter
