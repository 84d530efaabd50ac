// The edge's response bodies, byte for byte as the README documents them.
#include "ingest_response.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokenmeter {
namespace {

constexpr const char* kOkStatus =
    R"("telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,)"
    R"("budgetWarning":false,"budgetExceeded":false})";

// `n` accepted events at body positions 0..n-1 (model gpt-4o-mini).
std::vector<AnsweredEvent> Events(size_t n) {
  std::vector<AnsweredEvent> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].index = static_cast<uint32_t>(i);
    out[i].model = "gpt-4o-mini";
  }
  return out;
}

// The hosted guide's validation step: send one event, then the same again.
TEST(IngestResponseTest, InsertedThenSkippedAsTheGuidesValidationStepExpects) {
  HttpResponse first = IngestResult(Events(1), {{RecordVerdict::kInserted, false}}, {}, {});
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.body, std::string(R"({"ok":true,"inserted":1,"skipped":0,"conflicts":[],"pending":0,)"
                                    R"("accepted":1,"rejected":0,"errors":[],"warnings":[],"reason":"ok",)") +
                            kOkStatus);
  HttpResponse again = IngestResult(Events(1), {{RecordVerdict::kSkipped, false}}, {}, {});
  EXPECT_EQ(again.body, std::string(R"({"ok":true,"inserted":0,"skipped":1,"conflicts":[],"pending":0,)"
                                    R"("accepted":1,"rejected":0,"errors":[],"warnings":[],"reason":"ok",)") +
                            kOkStatus);
}

TEST(IngestResponseTest, AcceptedWithRejectedEventsListsErrorsByIndex) {
  std::vector<AnsweredEvent> events = Events(10);
  events.erase(events.begin() + 5);
  events.erase(events.begin() + 2);
  HttpResponse r = IngestResult(events, {},
                                {{2, "inputTokens", "must be a non-negative integer"},
                                 {5, "externalRequestId", "is required (externalRequestId or requestId)"},
                                 {5, "model", "is required"}},
                                {});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body,
            std::string(R"({"ok":true,"inserted":0,"skipped":0,"conflicts":[],"pending":8,"accepted":8,"rejected":2,"errors":[)"
                        R"({"index":2,"field":"inputTokens","message":"must be a non-negative integer"},)"
                        R"j({"index":5,"field":"externalRequestId","message":"is required (externalRequestId or requestId)"},)j"
                        R"({"index":5,"field":"model","message":"is required"}],"warnings":[],"reason":"ok",)") +
                kOkStatus);
}

// Each verdict and warning with the index of its event in the body.
TEST(IngestResponseTest, ConflictsRejectionsAndWarningsNameTheirEvents) {
  std::vector<AnsweredEvent> events = Events(4);
  events[1].model = "claude-9";
  events[2].warnings = kWarnUnknownProject | kWarnTotalTokensMismatch;
  events[2].project = "checkout";
  events[2].total_tokens = 1200;
  events[2].token_sum = 1170;
  HttpResponse r = IngestResult(events,
                                {{RecordVerdict::kConflict, false},
                                 {RecordVerdict::kInserted, true},
                                 {RecordVerdict::kInserted, false},
                                 {RecordVerdict::kRejected, false}},
                                {}, {});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body,
            std::string(R"x({"ok":true,"inserted":2,"skipped":0,"conflicts":[{"index":0,"message":"this requestId was )x"
                        R"x(first recorded with other content; this event is not counted"}],"pending":0,"accepted":4,)x"
                        R"x("rejected":1,"errors":[{"index":3,"field":"","message":"refused by the processor on )x"
                        R"x(re-validation (see the dead-letter log)"}],"warnings":[)x"
                        R"x({"index":1,"code":"unpriced_model","message":"model \"claude-9\" has no price in the catalog; )x"
                        R"x(counted without a cost (send estimatedCostUsd, or add a price or alias)"},)x"
                        R"x({"index":2,"code":"unknown_project","message":"project \"checkout\" is not configured; )x"
                        R"x(counted without a project"},)x"
                        R"x({"index":2,"code":"total_tokens_mismatch","message":"totalTokens 1200 is not )x"
                        R"x(inputTokens + outputTokens (1170); the token counts are kept as given"}],"reason":"ok",)x") +
                kOkStatus);
}

TEST(IngestResponseTest, NothingAcceptedIs400) {
  HttpResponse r = IngestResult({}, {}, {{0, "status", "must be one of success, error, timeout, cancelled"}}, {});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            std::string(R"({"ok":false,"reason":"invalid_events","accepted":0,"rejected":1,"errors":[)"
                        R"({"index":0,"field":"status","message":"must be one of success, error, timeout, cancelled"}],)") +
                kOkStatus);
}

TEST(IngestResponseTest, AcceptedCarriesTheWorkspaceStatus) {
  AnswerStatus status;
  status.telemetry_paused = true;
  status.plan_limit_reached = true;
  status.budget_warning = true;
  status.budget_exceeded = true;
  HttpResponse r = IngestResult(Events(1), {{RecordVerdict::kInserted, false}}, {}, status);
  EXPECT_EQ(r.body, R"({"ok":true,"inserted":1,"skipped":0,"conflicts":[],"pending":0,"accepted":1,"rejected":0,)"
                    R"("errors":[],"warnings":[],"reason":"ok","telemetryPaused":true,"providerCallsContinue":true,)"
                    R"("isPlanLimitReached":true,"budgetWarning":true,"budgetExceeded":true})");
}

TEST(IngestResponseTest, PlanLimitIs402WithTheDocumentedBody) {
  AnswerStatus budget;
  budget.budget_exceeded = true;
  HttpResponse r = PlanLimitReached(3600, budget);
  EXPECT_EQ(r.status, 402);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"plan_limit_reached","message":"the workspace's plan limit is reached: )"
                    R"x(events are refused until the next UTC month (your model calls are not affected)",)x"
                    R"("retryAfterSeconds":3600,"telemetryPaused":true,"providerCallsContinue":true,)"
                    R"("isPlanLimitReached":true,"budgetWarning":false,"budgetExceeded":true})");
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3600"}));
}

TEST(IngestResponseTest, RetryLaterCarriesTheHeaderTheFieldAndTheStatus) {
  AnswerStatus warned;
  warned.budget_warning = true;
  HttpResponse r = RetryLater(429, "rate_limited", "slow \"down\"", 7, warned);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"rate_limited","message":"slow \"down\"","retryAfterSeconds":7,)"
                    R"("telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,)"
                    R"("budgetWarning":true,"budgetExceeded":false})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "7"}));
}

TEST(IngestResponseTest, EveryRefusalEndsWithTheStatusFields) {
  HttpResponse r = Refusal(401, "unauthorized", "missing or invalid API key", {});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"unauthorized","message":"missing or invalid API key",)"
                    R"("telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,)"
                    R"("budgetWarning":false,"budgetExceeded":false})");
  AnswerStatus exceeded;
  exceeded.budget_warning = true;
  exceeded.budget_exceeded = true;
  r = Refusal(413, "too_many_events", "a request holds at most 1000 events", exceeded);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"too_many_events","message":"a request holds at most 1000 events",)"
                    R"("telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,)"
                    R"("budgetWarning":true,"budgetExceeded":true})");
}

}  // namespace
}  // namespace tokenmeter
