// RecordOutcomes: an edge waiting for the processor's verdicts on the records it published,
// whichever comes first (the outcomes or the wait), and at its deadline with what is known.
#include "tokenmeter/bus/record_outcomes.h"

#include <gtest/gtest.h>

#include <future>

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;
constexpr RecordOutcome kIn{RecordVerdict::kInserted, false};
constexpr RecordOutcome kUnpriced{RecordVerdict::kInserted, true};
constexpr RecordOutcome kSkip{RecordVerdict::kSkipped, false};
constexpr RecordOutcome kPend{RecordVerdict::kPending, false};

// Awaits [first, first + count) of partition 0 and returns the future of what comes back.
std::future<std::vector<RecordOutcome>> Await(RecordOutcomes& board, int64_t first, size_t count,
                                              std::chrono::milliseconds wait = 10s) {
  auto promise = std::make_shared<std::promise<std::vector<RecordOutcome>>>();
  std::vector<int64_t> offsets;
  for (size_t i = 0; i < count; ++i) offsets.push_back(first + static_cast<int64_t>(i));
  board.Await(0, std::move(offsets), std::chrono::steady_clock::now() + wait,
              [promise](std::vector<RecordOutcome> o) { promise->set_value(std::move(o)); });
  return promise->get_future();
}

TEST(RecordOutcomesTest, AWaiterIsAnsweredOnceEveryRecordOfItIsApplied) {
  RecordOutcomes board;
  auto got = Await(board, 10, 3);
  const RecordOutcome first[] = {kIn, kIn};
  board.Applied(0, 9, first);  // offsets 9, 10: not all of 10..12 yet
  EXPECT_EQ(got.wait_for(50ms), std::future_status::timeout);
  const RecordOutcome rest[] = {kSkip, kUnpriced};
  board.Applied(0, 11, rest);
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<RecordOutcome>{kIn, kSkip, kUnpriced}));
}

// The log hands records to the processor as it acknowledges them to the edge, so a batch
// can be applied before the edge asks.
TEST(RecordOutcomesTest, OutcomesAppliedBeforeTheAwaitAreKept) {
  RecordOutcomes board;
  const RecordOutcome applied[] = {kIn, kSkip, kIn};
  board.Applied(0, 0, applied);
  auto got = Await(board, 1, 2);
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<RecordOutcome>{kSkip, kIn}));
}

TEST(RecordOutcomesTest, AtItsDeadlineAWaiterGetsWhatIsKnownAndPendingForTheRest) {
  RecordOutcomes board;
  const RecordOutcome applied[] = {kIn};
  board.Applied(0, 0, applied);
  auto got = Await(board, 0, 2, 100ms);
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<RecordOutcome>{kIn, kPend}));
}

// After a gap (a restart or rebalance) only what follows it is known.
TEST(RecordOutcomesTest, AGapStartsOver) {
  RecordOutcomes board;
  const RecordOutcome before[] = {kSkip, kSkip};
  board.Applied(0, 0, before);
  const RecordOutcome after[] = {kIn};
  board.Applied(0, 5, after);
  auto got = Await(board, 1, 1, 100ms);
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<RecordOutcome>{kPend}));
  auto later = Await(board, 5, 1);
  ASSERT_EQ(later.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(later.get(), (std::vector<RecordOutcome>{kIn}));
}

TEST(RecordOutcomesTest, StoppingAnswersEveryWaiter) {
  auto board = std::make_unique<RecordOutcomes>();
  auto got = Await(*board, 0, 1);
  board.reset();
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<RecordOutcome>{kPend}));
}

TEST(RecordOutcomesTest, OffsetsWithGapsAreAnsweredEach) {
  RecordOutcomes board;
  const RecordOutcome applied[] = {kIn, kSkip, kUnpriced, kIn};
  board.Applied(0, 10, applied);
  auto promise = std::make_shared<std::promise<std::vector<RecordOutcome>>>();
  board.Await(0, {11, 13}, std::chrono::steady_clock::now() + 10s,
              [promise](std::vector<RecordOutcome> o) { promise->set_value(std::move(o)); });
  auto got = promise->get_future();
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<RecordOutcome>{kSkip, kIn}));
}

// The outcomes topic's record: what the processor encodes an edge decodes, and nothing else.
TEST(RecordOutcomesTest, AppliedRecordsRoundTripAndOtherBytesAreRefused) {
  const RecordOutcome applied[] = {kIn, kSkip, kUnpriced, {RecordVerdict::kConflict, false},
                                   {RecordVerdict::kRejected, false}};
  std::string value = EncodeAppliedRecords(1234567890123, applied);
  EXPECT_EQ(value.size(), 14u);
  auto decoded = DecodeAppliedRecords(value);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->first, 1234567890123);
  EXPECT_EQ(decoded->second, (std::vector<RecordOutcome>(std::begin(applied), std::end(applied))));
  EXPECT_FALSE(DecodeAppliedRecords(std::string("\x02") + value.substr(1)).has_value()) << "another version";
  EXPECT_FALSE(DecodeAppliedRecords(value.substr(0, 8)).has_value()) << "cut short";
  EXPECT_FALSE(DecodeAppliedRecords(value + "\x07").has_value()) << "no such verdict";
}

}  // namespace
}  // namespace tokenmeter
