// HTTP framing abuse against the edge's server, byte-exact over raw sockets: requests the
// server must refuse and close, pipelining that must never be mis-framed, and the
// handler deadline. The bus is a fake here: this is about the HTTP layer.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <thread>

#include "fake_publisher.h"
#include "http_client.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/edge/edge_service.h"

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;
using testing::ParseResponses;
using testing::SendRaw;

class HttpFramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *CreateApiKey("live", "acme", Role::kIngest);
    keys_ = std::make_unique<KeyRing>(*KeyRing::Build({key_.record}));
    edge_ = std::make_unique<EdgeService>(config_, *keys_, normalizer_, bus_, clock_, registry_);
    HttpServerConfig hc;
    hc.port = 0;
    hc.handler_deadline_ms = 500;
    hc.header_timeout_ms = 1000;
    hc.body_timeout_ms = 1000;
    hc.error_members = EdgeService::ServerErrorMembers();  // as edge and serve configure it
    server_ = std::make_unique<HttpServer>(hc, *edge_);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }
  void TearDown() override { server_->Stop(1s); }

  // A complete POST /v1/ingest with the given body and extra header lines.
  std::string Post(const std::string& body, const std::string& extra_headers = "",
                   bool with_length = true) {
    std::string req = "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "X-API-Key: " + key_.key + "\r\n" + extra_headers;
    if (with_length) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return req + "\r\n" + body;
  }

  // Sends bytes, expects exactly one response with `status`, and the connection closed.
  void ExpectRefusedAndClosed(const std::string& bytes, int status, const std::string& what) {
    std::string raw = SendRaw(port_, bytes);
    std::vector<testing::Reply> replies = ParseResponses(raw);
    ASSERT_EQ(replies.size(), 1u) << what << ":\n" << raw.substr(0, 300);
    EXPECT_EQ(replies[0].status, status) << what;
    EXPECT_EQ(replies[0].Header("connection"), "close") << what;
    EXPECT_TRUE(bus_.published().empty()) << what;
  }

  EdgeConfig config_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  FakeClock clock_{*ParseRfc3339("2026-02-07T12:00:00Z")};
  prometheus::Registry registry_;
  testing::FakePublisher bus_;
  NewKey key_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<EdgeService> edge_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

const std::string kEvent = R"({"requestId":"r1","provider":"openai","model":"gpt-4o-mini"})";
const std::string kEvent2 = R"({"requestId":"r2","provider":"openai","model":"gpt-4o-mini"})";

TEST_F(HttpFramingTest, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  std::string bytes = Post(kEvent) + Post(kEvent2) +
                      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::vector<testing::Reply> replies = ParseResponses(SendRaw(port_, bytes));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].status, 202);
  EXPECT_EQ(replies[1].status, 202);
  EXPECT_EQ(replies[2].status, 200);
  EXPECT_EQ(replies[2].body, R"({"ok":true})");
  auto published = bus_.published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_NE(testing::BusRecordAsJson(published[0].value).find("\"request_id\":\"r1\""),
            std::string::npos);
  EXPECT_NE(testing::BusRecordAsJson(published[1].value).find("\"request_id\":\"r2\""),
            std::string::npos);
}

// An I/O thread parses every body into the same events and encodes them into the same
// records: on one connection (one thread), each request publishes exactly its own events,
// with nothing left over from a larger body before it.
TEST_F(HttpFramingTest, EachRequestPublishesOnlyItsOwnEventsOnAReusingThread) {
  auto with = [](const std::string& id, const std::string& extra) {
    return R"({"requestId":")" + id + R"(","provider":"openai","model":"gpt-4o-mini")" + extra +
           "}";
  };
  const std::string rich = R"(,"promptVersion":"summarizer_v3_long_name","userId":"user-000001")";
  const std::string bad = R"(,"inputTokens":-1)";
  std::string bytes = Post(R"({"events":[)" + with("b1", rich) + "," + with("b2", rich) + "," +
                           with("b3", rich) + "]}") +
                      Post(with("s1", "")) +
                      Post(R"({"events":[)" + with("x1", bad) + "," + with("x2", "") + "]}",
                           "Connection: close\r\n");
  std::vector<testing::Reply> replies = ParseResponses(SendRaw(port_, bytes));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].status, 202);
  EXPECT_EQ(replies[1].status, 202);
  EXPECT_EQ(replies[2].status, 202);
  EXPECT_NE(replies[2].body.find(R"("accepted":1,)"), std::string::npos) << replies[2].body;
  auto published = bus_.published();
  ASSERT_EQ(published.size(), 5u);
  const char* ids[] = {"b1", "b2", "b3", "s1", "x2"};
  for (size_t i = 0; i < published.size(); ++i) {
    const std::string json = testing::BusRecordAsJson(published[i].value);
    EXPECT_NE(json.find(std::string("\"request_id\":\"") + ids[i] + "\""), std::string::npos)
        << json;
    EXPECT_EQ(json.find("summarizer_v3_long_name") != std::string::npos, i < 3) << json;
    EXPECT_EQ(json.find("user-000001") != std::string::npos, i < 3) << json;
    EXPECT_EQ(published[i].key, "acme");
  }
}

TEST_F(HttpFramingTest, ChunkedBodiesAreAccepted) {
  std::string body = kEvent;
  std::string bytes = Post("", "Transfer-Encoding: chunked\r\nConnection: close\r\n", false);
  bytes += "10\r\n" + body.substr(0, 16) + "\r\n";
  char len[16];
  std::snprintf(len, sizeof(len), "%zx", body.size() - 16);
  bytes += std::string(len) + "\r\n" + body.substr(16) + "\r\n0\r\n\r\n";
  std::vector<testing::Reply> replies = ParseResponses(SendRaw(port_, bytes));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 202);
  EXPECT_EQ(bus_.published().size(), 1u);
}

TEST_F(HttpFramingTest, ContentLengthWithTransferEncodingIsRefused) {
  ExpectRefusedAndClosed(Post(kEvent, "Transfer-Encoding: chunked\r\n"), 400, "CL then TE");
  std::string te_first = "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         "Content-Length: 5\r\n\r\n0\r\n\r\n";
  ExpectRefusedAndClosed(te_first, 400, "TE then CL");
}

TEST_F(HttpFramingTest, TransferEncodingOtherThanChunkedIsRefused) {
  ExpectRefusedAndClosed(Post(kEvent, "Transfer-Encoding: gzip\r\n", false), 400, "gzip");
  ExpectRefusedAndClosed(Post(kEvent, "Transfer-Encoding: gzip, chunked\r\n", false), 400,
                         "gzip, chunked");
  ExpectRefusedAndClosed(
      Post(kEvent, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", false), 400,
      "duplicate TE");
}

TEST_F(HttpFramingTest, ConflictingContentLengthsAreRefused) {
  ExpectRefusedAndClosed(Post(kEvent, "Content-Length: 3\r\n"), 400, "two different lengths");
  std::string same_twice = Post(kEvent, "Content-Length: " + std::to_string(kEvent.size()) +
                                            "\r\nConnection: close\r\n");
  std::vector<testing::Reply> replies = ParseResponses(SendRaw(port_, same_twice));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 202) << "two equal lengths are one length (RFC 9110)";
}

TEST_F(HttpFramingTest, MalformedChunksAndHeadersAreRefused) {
  ExpectRefusedAndClosed(Post("", "Transfer-Encoding: chunked\r\n", false) + "zz\r\nabc\r\n0\r\n\r\n",
                         400, "bad chunk size");
  ExpectRefusedAndClosed(Post(kEvent, std::string("X-Bad: a\0b\r\n", 12)), 400, "NUL in header");
  // obs-fold is unfolded (RFC 9112 5.2), so a Transfer-Encoding hidden in a fold is seen
  // for what it is and conflicts with Content-Length.
  ExpectRefusedAndClosed(Post(kEvent, "Transfer-Encoding:\r\n chunked\r\n"), 400,
                         "TE smuggled through obs-fold");
  ExpectRefusedAndClosed("GARBAGE\r\n\r\n", 400, "not HTTP");
}

TEST_F(HttpFramingTest, HundredHeadersAreFine) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "X-H" + std::to_string(i) + ": v\r\n";
  std::vector<testing::Reply> replies =
      ParseResponses(SendRaw(port_, Post(kEvent, hundred + "Connection: close\r\n")));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 202);
}

TEST_F(HttpFramingTest, OversizedHeadersAre431) {
  ExpectRefusedAndClosed(Post(kEvent, "X-Big: " + std::string(20000, 'a') + "\r\n"), 431,
                         "one 20 KB header");
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  ExpectRefusedAndClosed(Post(kEvent, many), 431, "2000 headers (over 16 KiB)");
  ExpectRefusedAndClosed("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431,
                         "long request line");
}

TEST_F(HttpFramingTest, OversizedBodyIs413EvenWhileTheClientKeepsSending) {
  std::string body(2 << 20, 'x');
  ExpectRefusedAndClosed(Post(body), 413, "2 MiB body");
}

TEST_F(HttpFramingTest, SlowHeadersAreCutOffAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  std::string raw = SendRaw(port_, "POST /v1/ingest HTTP/1.1\r\nHost: x\r\n", 5s);
  EXPECT_EQ(raw, "");  // closed without an answer, at the header deadline
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 4s);
}

TEST_F(HttpFramingTest, ExpectContinueGetsAnInterimResponse) {
  std::vector<testing::Reply> replies =
      ParseResponses(SendRaw(port_, Post(kEvent, "Expect: 100-continue\r\nConnection: close\r\n")));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].status, 100);
  EXPECT_EQ(replies[1].status, 202);
}

TEST_F(HttpFramingTest, ABusThatNeverAnswersGets503AtTheHandlerDeadline) {
  bus_.Cork();
  auto start = std::chrono::steady_clock::now();
  std::vector<testing::Reply> replies =
      ParseResponses(SendRaw(port_, Post(kEvent, "Connection: close\r\n")));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_EQ(replies[0].Header("retry-after"), "1");
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s);
  // The late success must not produce a second response or a crash.
  bus_.Release(Status::Ok());
  std::vector<testing::Reply> next = ParseResponses(SendRaw(port_, Post(kEvent2, "Connection: close\r\n")));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].status, 202);
}

TEST_F(HttpFramingTest, ALateAnswerIsNeverTakenForTheNextRequestOnTheConnection) {
  // Two pipelined requests on one keep-alive connection, the bus corked: the first is
  // given up at the deadline (503), the second is then held too. The first one's late
  // success must be dropped, not answer the second: the second was never delivered.
  bus_.Cork();
  auto reply = std::async(std::launch::async, [&] {
    return SendRaw(port_, Post(kEvent) + Post(kEvent2, "Connection: close\r\n"), 5s);
  });
  auto until = std::chrono::steady_clock::now() + 3s;
  while (bus_.InFlight() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(bus_.InFlight(), 2u);
  ASSERT_TRUE(bus_.ReleaseOldest(Status::Ok()));  // the first request's late delivery
  std::vector<testing::Reply> replies = ParseResponses(reply.get());
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_EQ(replies[1].status, 503);  // its own deadline, not the first one's 202
  EXPECT_EQ(replies[1].Header("retry-after"), "1");
  bus_.Release(Status::Ok());
}

TEST_F(HttpFramingTest, BusFailuresAre503NeverA2xx) {
  for (Status s : {ResourceExhausted("producer queue full"), Unavailable("broker gone"),
                   DeadlineExceeded("delivery timed out")}) {
    bus_.FailWith(s);
    std::vector<testing::Reply> replies =
        ParseResponses(SendRaw(port_, Post(kEvent, "Connection: close\r\n")));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].status, 503) << s.ToString();
    EXPECT_EQ(replies[0].Header("retry-after"), "1");
    EXPECT_NE(replies[0].body.find(s.message()), std::string::npos);
  }
  bus_.ready_ = Unavailable("the Kafka brokers are unreachable");
  bus_.FailWith(Status::Ok());
  std::vector<testing::Reply> replies =
      ParseResponses(SendRaw(port_, Post(kEvent, "Connection: close\r\n")));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_EQ(replies[0].body,
            R"({"ok":false,"reason":"bus_unavailable","message":"the Kafka brokers are unreachable","retryAfterSeconds":1)"
            R"(,"telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false})");
  EXPECT_TRUE(bus_.published().empty());
  // A full disk under the bus is said as such, on ingest and on /readyz.
  bus_.ready_ = NoSpace("the disk under the embedded log is full");
  replies = ParseResponses(SendRaw(port_, Post(kEvent, "Connection: close\r\n")));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_EQ(replies[0].body,
            R"({"ok":false,"reason":"disk_full","message":"the disk under the embedded log is full","retryAfterSeconds":1)"
            R"(,"telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false})");
  replies = ParseResponses(SendRaw(port_, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_EQ(replies[0].body,
            R"({"ok":false,"reason":"disk_full","message":"the disk under the embedded log is full"})");
  bus_.ready_ = Status::Ok();
  bus_.FailWith(NoSpace("embedded log write failed: No space left on device"));
  replies = ParseResponses(SendRaw(port_, Post(kEvent, "Connection: close\r\n")));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_NE(replies[0].body.find(R"("reason":"disk_full")"), std::string::npos) << replies[0].body;
  EXPECT_TRUE(bus_.published().empty());
}

}  // namespace
}  // namespace tokenmeter
