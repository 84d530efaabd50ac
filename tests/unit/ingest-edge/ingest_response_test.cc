// The edge's response bodies, byte for byte as the README documents them.
#include "ingest_response.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(IngestResponseTest, AcceptedWithRejectedEventsListsErrorsByIndex) {
  HttpResponse r = IngestResult(8, {{2, "inputTokens", "must be a non-negative integer"},
                                    {5, "externalRequestId", "is required (externalRequestId or requestId)"},
                                    {5, "model", "is required"}});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body,
            R"({"ok":true,"accepted":8,"rejected":2,"errors":[)"
            R"({"index":2,"field":"inputTokens","message":"must be a non-negative integer"},)"
            R"j({"index":5,"field":"externalRequestId","message":"is required (externalRequestId or requestId)"},)j"
            R"({"index":5,"field":"model","message":"is required"}],)"
            R"("telemetryPaused":false,"budgetWarning":false,"budgetExceeded":false})");
}

TEST(IngestResponseTest, NothingAcceptedIs400) {
  HttpResponse r = IngestResult(0, {{0, "status", "must be one of success, error, timeout, cancelled"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"ok":false,"reason":"invalid_events","accepted":0,"rejected":1,"errors":[)"
            R"({"index":0,"field":"status","message":"must be one of success, error, timeout, cancelled"}]})");
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
