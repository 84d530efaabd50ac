// The edge's response bodies, byte for byte as the README documents them.
#include "ingest_response.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(IngestResponseTest, AcceptedWithRejectedEventsListsErrorsByIndex) {
  HttpResponse r = IngestResult(8, {{2, "inputTokens", "must be a non-negative integer"},
                                    {5, "externalRequestId", "is required (externalRequestId or requestId)"},
                                    {5, "model", "is required"}},
                                WorkspaceStatus{});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body,
            R"({"ok":true,"accepted":8,"rejected":2,"errors":[)"
            R"({"index":2,"field":"inputTokens","message":"must be a non-negative integer"},)"
            R"j({"index":5,"field":"externalRequestId","message":"is required (externalRequestId or requestId)"},)j"
            R"({"index":5,"field":"model","message":"is required"}],)"
            R"("telemetryPaused":false,"budgetWarning":false,"budgetExceeded":false})");
}

TEST(IngestResponseTest, NothingAcceptedIs400) {
  HttpResponse r = IngestResult(0, {{0, "status", "must be one of success, error, timeout, cancelled"}},
                                WorkspaceStatus{});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"ok":false,"reason":"invalid_events","accepted":0,"rejected":1,"errors":[)"
            R"({"index":0,"field":"status","message":"must be one of success, error, timeout, cancelled"}]})");
}

TEST(IngestResponseTest, AcceptedCarriesTheWorkspaceBudgetFlags) {
  WorkspaceStatus status;
  status.budget_warning = true;
  status.budget_exceeded = true;
  HttpResponse r = IngestResult(1, {}, status);
  EXPECT_EQ(r.body, R"({"ok":true,"accepted":1,"rejected":0,"errors":[],)"
                    R"("telemetryPaused":false,"budgetWarning":true,"budgetExceeded":true})");
}

TEST(IngestResponseTest, PlanLimitIs402WithTheDocumentedBody) {
  HttpResponse r = PlanLimitReached(3600);
  EXPECT_EQ(r.status, 402);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"plan_limit_reached","telemetryPaused":true,)"
                    R"("providerCallsContinue":true,"isPlanLimitReached":true})");
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3600"}));
}

TEST(IngestResponseTest, RetryLaterCarriesTheHeaderAndTheField) {
  HttpResponse r = RetryLater(429, "rate_limited", "slow \"down\"", 7);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"rate_limited","message":"slow \"down\"","retryAfterSeconds":7})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "7"}));
}

}  // namespace
}  // namespace tokenmeter
