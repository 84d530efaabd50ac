// The ingest edge against a real Kafka-protocol broker (librdkafka's mock cluster, 3
// brokers, on loopback): what a producer sends must land on tokenmeter.events exactly
// as canonical events keyed by workspace, and a 202 must never be given for an event the
// bus did not make durable.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <set>
#include <thread>

#include "http_client.h"
#include "mock_cluster.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/edge/edge_service.h"
#include "tokenmeter/model/event_parser.h"
#include "topic_reader.h"

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;
using testing::PostJson;
using testing::ReadTopic;
using testing::Reply;

const TimePoint kNow = *ParseRfc3339("2026-02-07T12:00:00.000Z");
constexpr const char* kTopic = "tokenmeter.events";

class EdgeKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(/*queue_max_messages=*/200000); }

  void Start(int queue_max_messages) {
    auto cluster = MockCluster::Create(3, {{kTopic, 4}});
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    ingest_ = *CreateApiKey("live", "acme", Role::kIngest);
    globex_ = *CreateApiKey("live", "globex", Role::kIngest);
    member_ = *CreateApiKey("live", "acme", Role::kMember);
    revoked_ = *CreateApiKey("live", "acme", Role::kIngest);
    revoked_.record.revoked = true;
    limited_ = *CreateApiKey("live", "acme", Role::kIngest);
    limited_.record.events_per_second = 1;
    limited_.record.burst_events = 5;
    keys_ = std::make_unique<KeyRing>(*KeyRing::Build(
        {ingest_.record, globex_.record, member_.record, revoked_.record, limited_.record}));
    KafkaConfig kc;
    kc.bootstrap_servers = cluster_->bootstrap_servers();
    kc.delivery_timeout_ms = 1500;
    kc.queue_max_messages = queue_max_messages;
    auto pub = KafkaPublisher::Create(kc);
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    publisher_ = std::move(*pub);
    edge_ = std::make_unique<EdgeService>(config_, *keys_, normalizer_, *publisher_, clock_,
                                          registry_);
    HttpServerConfig hc;
    hc.port = 0;
    // The bound on every answer, enforced by the server whatever librdkafka does: a record
    // in flight when its broker vanishes can take longer than delivery_timeout_ms to fail.
    hc.handler_deadline_ms = 3000;
    hc.error_members = EdgeService::ServerErrorMembers();  // as edge and serve configure it
    server_ = std::make_unique<HttpServer>(hc, *edge_);
    edge_->AttachServer(server_.get());
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
    ASSERT_TRUE(WaitForReady(200)) << "edge never became ready";
  }

  void TearDown() override {
    // Stop taking requests, then let the bus report everything in flight while the edge
    // it reports to still exists.
    if (server_) server_->Stop(2s);
    publisher_.reset();
    edge_.reset();
    server_.reset();
    cluster_.reset();
  }

  bool WaitForReady(int want_status) {
    for (int i = 0; i < 200; ++i) {
      if (testing::Request(port_, "GET", "/readyz").status == want_status) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  Reply Post(const std::string& body, const std::string& key = "") {
    return PostJson(port_, "/v1/ingest", key.empty() ? ingest_.key : key, body);
  }

  std::vector<testing::TopicRecord> Topic() {
    return ReadTopic(cluster_->bootstrap_servers(), kTopic);
  }

  // The request id of a record on the topic, decoded as the processor does.
  std::string RequestIdOf(const std::string& record) {
    Result<UsageEvent> e = EventParser(config_.limits, normalizer_).ParseCanonical(record);
    return e.ok() ? e->request_id : "<undecodable: " + e.status().message() + ">";
  }

  double Metric(const std::string& line_prefix) {
    std::string text = testing::Request(port_, "GET", "/metrics").body;
    size_t pos = text.find("\n" + line_prefix + " ");
    if (pos == std::string::npos) return -1;
    return std::stod(text.substr(pos + line_prefix.size() + 2));
  }

  EdgeConfig config_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  FakeClock clock_{kNow};
  prometheus::Registry registry_;
  std::unique_ptr<MockCluster> cluster_;
  NewKey ingest_, globex_, member_, revoked_, limited_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<KafkaPublisher> publisher_;
  std::unique_ptr<EdgeService> edge_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

const char* kOpsmeterFixture =
    R"({"externalRequestId":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","inputTokens":120,"outputTokens":45,"totalTokens":165,"latencyMs":820,"status":"success","dataMode":"real","environment":"prod"})";
const char* kCostLynxFixture =
    R"({"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"})";
const char* kCostLynxBatch =
    R"({"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","environment":"prod","feature":"contract-analysis"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","environment":"prod","feature":"classification"}]})";
const char* kGeminiFixture =
    R"({"provider":"gemini","model":"gemini-2.0-flash","inputTokens":900,"outputTokens":200,"requestId":"6f1c2d3e-0000-4000-8000-000000000001","feature":"search.summarize"})";

// The Opsmeter status fields of a workspace with no limit or budget reached; every answer
// ends with them, refusals included.
constexpr const char* kNoFlags =
    R"(,"telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false})";

constexpr const char* kAccepted1 =
    R"({"ok":true,"inserted":0,"skipped":0,"conflicts":[],"pending":1,"accepted":1,"rejected":0,"errors":[],"warnings":[],"reason":"ok","telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false})";

TEST_F(EdgeKafkaTest, FixturesLandOnTheTopicAsCanonicalEventsKeyedByWorkspace) {
  Reply r = Post(kOpsmeterFixture);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, kAccepted1);
  EXPECT_EQ(PostJson(port_, "/api/v1/usage/ingest", ingest_.key, kCostLynxFixture).body, kAccepted1);
  r = PostJson(port_, "/v1/ingest/llm-request", ingest_.key, kCostLynxBatch);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"ok":true,"inserted":0,"skipped":0,"conflicts":[],"pending":2,"accepted":2,"rejected":0,"errors":[],"warnings":[],"reason":"ok","telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false})");
  EXPECT_EQ(Post(kGeminiFixture).body, kAccepted1);
  EXPECT_EQ(Post(R"({"requestId":"g-1","provider":"openai","model":"gpt-4o"})", globex_.key).status, 202);

  // The fixtures give no timestamp: each is timed at its receipt, and says so.
  const std::string ts = R"("occurred_at":"2026-02-07T12:00:00.000Z","occurred_at_defaulted":true,"received_at":"2026-02-07T12:00:00.000Z","api_key_id":")";
  const std::string id = ingest_.record.id + "\"}";
  std::vector<std::string> want_acme = {
      R"({"v":1,"workspace":"acme","request_id":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","endpoint_tag":"checkout.ai_summary","prompt_version":"summarizer_v3","environment":"prod","data_mode":"real","input_tokens":120,"output_tokens":45,"total_tokens":165,"latency_ms":820,"status":"success",)" + ts + id,
      R"({"v":1,"workspace":"acme","request_id":"test-integration-001","provider":"openai","model":"gpt-4o-mini","endpoint_tag":"ticket-classifier","project":"customer-support","environment":"staging","data_mode":"real","input_tokens":850,"output_tokens":320,)" + ts + id,
      R"({"v":1,"workspace":"acme","request_id":"chatcmpl-abc123","provider":"openai","model":"gpt-4.1","endpoint_tag":"contract-analysis","project":"document-processing","environment":"prod","data_mode":"real","input_tokens":1200,"output_tokens":450,)" + ts + id,
      R"({"v":1,"workspace":"acme","request_id":"msg_xyz456","provider":"anthropic","model":"claude-3-5-haiku","endpoint_tag":"classification","project":"document-processing","environment":"prod","data_mode":"real","input_tokens":600,"output_tokens":180,)" + ts + id,
      R"({"v":1,"workspace":"acme","request_id":"6f1c2d3e-0000-4000-8000-000000000001","provider":"google","model":"gemini-2.0-flash","endpoint_tag":"search.summarize","environment":"prod","data_mode":"real","input_tokens":900,"output_tokens":200,)" + ts + id,
  };
  std::vector<testing::TopicRecord> records = Topic();
  ASSERT_EQ(records.size(), 6u);
  std::vector<std::string> got_acme;
  int acme_partition = -1;
  for (const auto& rec : records) {
    if (rec.key == "acme") {
      EXPECT_EQ(static_cast<unsigned char>(rec.value[0]), kBusRecordTag)
          << "the edge sends binary records";
      got_acme.push_back(testing::BusRecordAsJson(rec.value));
      if (acme_partition >= 0) {
        EXPECT_EQ(rec.partition, acme_partition) << "one workspace, one partition";
      }
      acme_partition = rec.partition;
    } else {
      EXPECT_EQ(rec.key, "globex");
      EXPECT_NE(
          testing::BusRecordAsJson(rec.value).find(R"("workspace":"globex","request_id":"g-1")"),
          std::string::npos);
    }
  }
  EXPECT_EQ(got_acme, want_acme);  // same partition: in the order they were accepted
  // And every record is a valid canonical event for the processor.
  EventParser parser(config_.limits, normalizer_);
  for (const auto& rec : records) EXPECT_TRUE(parser.ParseCanonical(rec.value).ok()) << rec.value;
}

TEST_F(EdgeKafkaTest, BatchOfTenWithTwoInvalidAcceptsEightAndNamesTheTwo) {
  std::string body = R"({"events":[)";
  for (int i = 0; i < 10; ++i) {
    if (i) body += ",";
    if (i == 2) body += R"({"requestId":"e2","provider":"openai","model":"gpt-4o-mini","inputTokens":12.5})";
    else if (i == 6) body += R"({"provider":"openai","model":"gpt-4o-mini"})";
    else body += R"({"requestId":"e)" + std::to_string(i) + R"(","provider":"openai","model":"gpt-4o-mini","inputTokens":)" + std::to_string(100 + i) + "}";
  }
  body += "]}";
  Reply r = Post(body);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body,
            R"j({"ok":true,"inserted":0,"skipped":0,"conflicts":[],"pending":8,"accepted":8,"rejected":2,"errors":[{"index":2,"field":"inputTokens","message":"must be a non-negative integer"},{"index":6,"field":"externalRequestId","message":"is required (externalRequestId or requestId)"}],"warnings":[],"reason":"ok","telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false})j");
  std::vector<std::string> ids;
  for (const auto& rec : Topic()) {
    ids.push_back(RequestIdOf(rec.value));
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"e0", "e1", "e3", "e4", "e5", "e7", "e8", "e9"}));
  EXPECT_EQ(Metric("tokenmeter_edge_events_accepted_total"), 8);
  EXPECT_EQ(Metric(R"(tokenmeter_edge_events_rejected_total{reason="invalid_event"})"), 2);
}

TEST_F(EdgeKafkaTest, AuthenticationRoleAndMediaTypeRefusals) {
  const std::string unauthorized = R"({"ok":false,"reason":"unauthorized","message":"missing or invalid API key")"
                                   R"(,"telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,)"
                                   R"("budgetWarning":false,"budgetExceeded":false})";
  Reply r = PostJson(port_, "/v1/ingest", "", kOpsmeterFixture);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, unauthorized);
  r = Post(kOpsmeterFixture, "tm_live_garbage");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, unauthorized);
  r = Post(kOpsmeterFixture, revoked_.key);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, unauthorized);
  // Authorization: Bearer works like X-API-Key.
  r = testing::Request(port_, "POST", "/v1/ingest", kGeminiFixture,
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + revoked_.key}});
  EXPECT_EQ(r.status, 401);
  r = testing::Request(port_, "POST", "/v1/ingest", kGeminiFixture,
                       {{"Content-Type", "application/json; charset=utf-8"}, {"Authorization", "Bearer " + ingest_.key}});
  EXPECT_EQ(r.status, 202);
  r = Post(kOpsmeterFixture, member_.key);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, std::string(R"({"ok":false,"reason":"forbidden","message":"a member key cannot ingest; use an ingest key")") + kNoFlags);
  // A body declared in another charset would be misread as UTF-8: refused like another type.
  for (const char* type : {"text/plain", "application/json;charset=latin1",
                           "application/json; charset=\"ISO-8859-1\"", "application/jsonx"}) {
    r = testing::Request(port_, "POST", "/v1/ingest", kOpsmeterFixture,
                         {{"Content-Type", type}, {"X-API-Key", ingest_.key}});
    EXPECT_EQ(r.status, 415) << type;
    EXPECT_EQ(r.body, std::string(R"x({"ok":false,"reason":"unsupported_media_type","message":"Content-Type must be application/json (UTF-8)")x") + kNoFlags);
  }
  EXPECT_EQ(testing::Request(port_, "GET", "/v1/ingest").status, 405);
  EXPECT_EQ(testing::Request(port_, "GET", "/nope").status, 404);
  EXPECT_EQ(Topic().size(), 1u);  // only the Bearer-authenticated event
  EXPECT_EQ(Metric(R"(tokenmeter_edge_auth_failures_total{reason="revoked"})"), 2);
  EXPECT_EQ(Metric(R"(tokenmeter_edge_auth_failures_total{reason="missing"})"), 1);
  EXPECT_EQ(Metric(R"(tokenmeter_edge_auth_failures_total{reason="malformed"})"), 1);
}

TEST_F(EdgeKafkaTest, OversizedBodiesAndBatchesAre413) {
  Reply r = Post(R"({"requestId":"big","provider":"openai","model":"m","x":")" + std::string(5 << 20, 'a') + "\"}");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, std::string(R"({"ok":false,"reason":"body_too_large","message":"request body too large")") + kNoFlags)
      << "refused by the HTTP layer before the key is read: the status fields of no workspace";
  std::string many = R"({"events":[)";
  for (int i = 0; i < 1001; ++i) many += (i ? "," : "") + std::string(R"({"requestId":"m","provider":"p","model":"m"})");
  many += "]}";
  r = Post(many);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, std::string(R"({"ok":false,"reason":"too_many_events","message":"a request holds at most 1000 events")") + kNoFlags);
  EXPECT_EQ(Post(kGeminiFixture).status, 202);  // the edge keeps serving
}

TEST_F(EdgeKafkaTest, RateLimitCountsEventsAndSaysWhenToRetry) {
  std::string five = R"({"events":[)";
  for (int i = 0; i < 5; ++i) five += (i ? "," : "") + std::string(R"({"requestId":"rl)") + std::to_string(i) + R"(","provider":"p","model":"m"})";
  five += "]}";
  EXPECT_EQ(Post(five, limited_.key).status, 202);
  Reply r = Post(R"({"requestId":"rl5","provider":"p","model":"m"})", limited_.key);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(r.body, std::string(R"({"ok":false,"reason":"rate_limited","message":"this API key's event rate limit","retryAfterSeconds":1)") + kNoFlags);
  std::string three = R"({"events":[{"requestId":"a","provider":"p","model":"m"},{"requestId":"b","provider":"p","model":"m"},{"requestId":"c","provider":"p","model":"m"}]})";
  r = Post(three, limited_.key);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Header("retry-after"), "3");
  EXPECT_EQ(Post(kGeminiFixture).status, 202);  // other keys are unaffected
  clock_.Advance(2999ms);
  EXPECT_EQ(Post(three, limited_.key).status, 429);
  clock_.Advance(1ms);
  EXPECT_EQ(Post(three, limited_.key).status, 202);
  EXPECT_EQ(Topic().size(), 9u);
}

TEST_F(EdgeKafkaTest, AllBrokersDownGives503WithinTheDeadlineThenRecovers) {
  ASSERT_TRUE(cluster_->SetDown(-1).ok());
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    Reply r = Post(R"({"requestId":"down-)" + std::to_string(i) + R"(","provider":"openai","model":"m"})");
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.Header("retry-after"), "1");
    EXPECT_LT(took, 4s) << "a 503 must come within the 3 s handler deadline (+1 s slack)";
  }
  EXPECT_TRUE(WaitForReady(503));
  ASSERT_TRUE(cluster_->SetUp(-1).ok());
  EXPECT_TRUE(WaitForReady(200));
  int status = 0;
  for (int attempt = 0; attempt < 60 && status != 202; ++attempt) {
    status = Post(R"({"requestId":"after-recovery","provider":"openai","model":"m"})").status;
    if (status != 202) std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(status, 202);
  std::vector<testing::TopicRecord> records = Topic();
  std::multiset<std::string> ids;
  for (const auto& rec : records) {
    ids.insert(RequestIdOf(rec.value));
  }
  EXPECT_EQ(ids.count("after-recovery"), 1u);
  EXPECT_GT(Metric(R"(tokenmeter_edge_events_rejected_total{reason="bus_unavailable"})"), 4);
}

TEST_F(EdgeKafkaTest, TransientProduceErrorsAreRetriedWithoutDuplicates) {
  std::vector<int> errors;
  for (const char* name : {"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS",
                           "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "_TRANSPORT"}) {
    auto code = MockCluster::ErrorCode(name);
    ASSERT_TRUE(code.has_value()) << name;
    errors.push_back(*code);
  }
  cluster_->PushRequestErrors(KafkaApi::kProduce, errors);
  std::string body = R"({"events":[)";
  for (int i = 0; i < 50; ++i) body += (i ? "," : "") + std::string(R"({"requestId":"t)") + std::to_string(i) + R"(","provider":"openai","model":"m","inputTokens":)" + std::to_string(i) + "}";
  body += "]}";
  Reply r = Post(body);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Post(R"({"requestId":"t50","provider":"openai","model":"m"})").status, 202);
  std::vector<testing::TopicRecord> records = Topic();
  std::set<std::string> distinct;
  for (const auto& rec : records) distinct.insert(rec.value);
  EXPECT_EQ(records.size(), 51u) << "duplicates on the topic";
  EXPECT_EQ(distinct.size(), 51u);
}

TEST_F(EdgeKafkaTest, BadInputNeverCrashesOrHangsTheEdge) {
  struct Case {
    std::string name;
    std::string body;
    int status;
  };
  std::string deep = R"({"events":[{"x":)" + std::string(200, '[') + std::string(200, ']') + "}]}";
  std::string keys = R"({"requestId":"k","provider":"p","model":"m")";
  for (int i = 0; i < 10000; ++i) keys += ",\"k" + std::to_string(i) + "\":1";
  keys += "}";
  std::vector<Case> cases = {
      {"truncated", R"({"requestId":"r","provider":"openai","mod)", 400},
      {"empty", "", 400},
      {"wrong types", R"({"requestId":["r"],"provider":7,"model":{"a":1}})", 400},
      {"negative tokens", R"({"requestId":"r","provider":"p","model":"m","inputTokens":-1})", 400},
      {"fractional tokens", R"({"requestId":"r","provider":"p","model":"m","inputTokens":0.5})", 400},
      {"NaN", R"({"requestId":"r","provider":"p","model":"m","inputTokens":NaN})", 400},
      {"2^63", R"({"requestId":"r","provider":"p","model":"m","inputTokens":9223372036854775808})", 400},
      {"2^64", R"({"requestId":"r","provider":"p","model":"m","inputTokens":18446744073709551616})", 400},
      {"invalid UTF-8", "{\"requestId\":\"r\xc3\x28\",\"provider\":\"p\",\"model\":\"m\"}", 400},
      {"deep nesting", deep, 400},
      {"10,000 keys", keys, 400},
      {"huge string", R"({"requestId":"r","provider":"p","model":")" + std::string(300000, 'm') + "\"}", 400},
      {"5 MiB body", std::string(5 << 20, ' ') + "{}", 413},
      {"top-level array", "[1,2,3]", 400},
      {"null", "null", 400},
  };
  for (const Case& c : cases) {
    Reply r = Post(c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body.substr(0, 200);
    EXPECT_NE(r.body.find("\"ok\":false"), std::string::npos) << c.name;
    Reply next = Post(R"({"requestId":"after-)" + c.name + R"(","provider":"openai","model":"m"})");
    EXPECT_EQ(next.status, 202) << "after " << c.name;
  }
  EXPECT_EQ(Topic().size(), cases.size());
}

TEST_F(EdgeKafkaTest, MetricsExposeRequestsEventsAndBusState) {
  EXPECT_EQ(Post(kCostLynxBatch).status, 202);
  EXPECT_EQ(PostJson(port_, "/v1/ingest", "", "{").status, 401);
  std::string text = testing::Request(port_, "GET", "/metrics").body;
  for (const char* want : {
           "tokenmeter_edge_requests_total{code=\"2xx\",route=\"ingest\"} 1",
           "tokenmeter_edge_requests_total{code=\"4xx\",route=\"ingest\"} 1",
           "tokenmeter_edge_events_accepted_total 2",
           "tokenmeter_edge_bus_ready 1",
           "tokenmeter_edge_producer_queue_records 0",
           "tokenmeter_edge_delivery_duration_seconds_count{outcome=\"durable\"} 1",
           "# TYPE tokenmeter_edge_request_duration_seconds histogram"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text.substr(0, 3000);
  }
}

TEST_F(EdgeKafkaTest, FatalProducerErrorMakesTheEdgeUnreadyAndNeverAccepts) {
  EXPECT_EQ(Post(kGeminiFixture).status, 202);
  publisher_->RaiseFatalErrorForTesting();
  EXPECT_TRUE(WaitForReady(503)) << "readyz must turn 503 after a fatal producer error";
  for (int i = 0; i < 3; ++i) {
    Reply r = Post(R"({"requestId":"after-fatal","provider":"openai","model":"m"})");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.Header("retry-after"), "1");
  }
  std::vector<testing::TopicRecord> records = Topic();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].value.find("6f1c2d3e-0000-4000-8000-000000000001"), std::string::npos);
}

class EdgeKafkaSmallQueueTest : public EdgeKafkaTest {
 protected:
  void SetUp() override { Start(/*queue_max_messages=*/5); }
};

TEST_F(EdgeKafkaSmallQueueTest, FullProducerQueueIs503AtOnce) {
  std::string body = R"({"events":[)";
  for (int i = 0; i < 20; ++i) body += (i ? "," : "") + std::string(R"({"requestId":"q)") + std::to_string(i) + R"(","provider":"p","model":"m"})";
  body += "]}";
  auto start = std::chrono::steady_clock::now();
  Reply r = Post(body);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_NE(r.body.find("producer queue full"), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  // Once the records already queued are acknowledged, there is room again.
  int status = 0;
  for (int attempt = 0; attempt < 40 && status != 202; ++attempt) {
    status = Post(R"({"requestId":"fits","provider":"p","model":"m"})").status;
    if (status != 202) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 202);
}

}  // namespace
}  // namespace tokenmeter
