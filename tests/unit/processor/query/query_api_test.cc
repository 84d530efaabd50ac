// The query API over real processor state: exact totals, top lists, time series, the
// event view with attempts and cost, read-key roles, and workspace isolation.
#include "query/query_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "dedup/dedup_index.h"
#include "dedup/dedup_record.h"
#include "pipeline.h"
#include "retention.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

namespace fs = std::filesystem;
const TimePoint kT = *ParseRfc3339("2026-02-07T12:34:56.000Z");

class QueryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*StateStore::Open(dir_.path().string(), ProcessorStateOptions()));
    prices_ = std::make_shared<const PriceBook>(*PriceBook::FromEmbedded());
    dedup_ = std::move(*DedupIndex::Load(*store_));
    journal_ = std::move(*RollupJournal::Open(*store_));
    UsageEvent a = Event("a", "gpt-4o-mini", 850, 320, "checkout.ai_summary", "u1", CallStatus::kSuccess, 820);
    UsageEvent b = Event("b", "gpt-4.1", 1200, 450, "contract-analysis", "u2", CallStatus::kError, 1000);
    b.project = "support";
    UsageEvent other = Event("g", "gpt-4.1", 1, 1, "x", "u9", CallStatus::kSuccess, 1);
    other.workspace = "globex";
    Apply({a, b, a, other});
    owner_ = *CreateApiKey("live", "acme", Role::kOwner);
    member_ = *CreateApiKey("live", "acme", Role::kMember);
    ingest_ = *CreateApiKey("live", "acme", Role::kIngest);
    globex_ = *CreateApiKey("live", "globex", Role::kAdmin);
    keys_ = std::make_unique<KeyRing>(*KeyRing::Build({owner_.record, member_.record, ingest_.record, globex_.record}));
    api_ = std::make_unique<QueryApi>(*store_, *dedup_, *journal_, *keys_, clock_);
  }
  void TearDown() override {
    api_.reset();
    journal_.reset();
    dedup_.reset();
    store_.reset();
  }

  static UsageEvent Event(const std::string& id, const std::string& model, uint64_t in, uint64_t out,
                          const std::string& endpoint, const std::string& user, CallStatus status,
                          uint32_t latency) {
    UsageEvent e = testing::TestEvent("acme", id, model, in, out, kT);
    e.endpoint_tag = endpoint;
    e.user_id = user;
    e.tenant_id = "t1";
    e.status = status;
    e.latency_ms = latency;
    return e;
  }

  // One batch of `events` (partition 0, after the batches before) applied and published
  // to the rollup journal, not folded.
  void Apply(const std::vector<UsageEvent>& events) {
    BatchPipeline pipeline(*store_, *dedup_, *journal_, parser_, prices_, "tokenmeter.events");
    std::vector<ConsumedRecord> msgs;
    for (const UsageEvent& e : events) {
      ConsumedRecord m{0, next_offset_++, e.workspace, ""};
      EncodeCanonical(e, m.value);
      msgs.push_back(std::move(m));
    }
    auto prepared = pipeline.Prepare(0, msgs);
    ASSERT_TRUE(prepared.ok());
    ASSERT_TRUE(pipeline.Commit(*prepared).ok());
  }

  HttpResponse Get(const std::string& target, const std::string& key = "") {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    r.api_key = key.empty() ? member_.key : key;
    return api_->Handle(r);
  }

  testing::TempDir dir_{"tm-query"};
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
  std::shared_ptr<const PriceBook> prices_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<DedupIndex> dedup_;
  NewKey owner_, member_, ingest_, globex_;
  std::unique_ptr<KeyRing> keys_;
  FakeClock clock_{*ParseRfc3339("2026-02-07T13:00:00.000Z")};
  std::unique_ptr<RollupJournal> journal_;
  std::unique_ptr<QueryApi> api_;
  int64_t next_offset_ = 0;
};

TEST_F(QueryApiTest, OverviewGivesExactTotals) {
  HttpResponse r = Get("/v1/dashboard/overview?range=24h");
  EXPECT_EQ(r.status, 200);
  // a: 850*150 + 320*600 = 319,500 nano; b: 1200*2000 + 450*8000 = 6,000,000 nano.
  // Latencies 820 and 1000 ms: p50 is 820's bucket edge 1.1^71 (869), p95/p99 1000's (1052).
  EXPECT_EQ(r.body,
            R"({"ok":true,"workspace":"acme","from":"2026-02-06T13:00:00.001Z","to":"2026-02-07T13:00:00.001Z","dataMode":"real",)"
            R"("retentionTruncated":false,"availableFrom":"2025-01-03T13:00:00.000Z",)"
            R"("totals":{"requests":2,"successes":1,"errors":1,"duplicates":1,"inputTokens":2050,"outputTokens":770,)"
            R"("cachedTokens":0,"cacheWriteTokens":0,"reasoningTokens":0,"costUsd":"0.006319500","costNanoUsd":6319500,)"
            R"("unpricedRequests":0,"avgLatencyMs":910,"p50LatencyMs":869,"p95LatencyMs":1052,"p99LatencyMs":1052,)"
            R"("retryMultiplier":"1.500"}})");
}

TEST_F(QueryApiTest, AnswersAreTheSameWhetherTheRollupsAreFoldedOrNot) {
  // The fixture's batch is published to the rollup journal and not folded; every answer
  // must be the same once it is folded into the stored rows.
  const std::vector<std::string> targets = {
      "/v1/dashboard/overview?range=24h", "/v1/dashboard/top-endpoints?range=24h",
      "/v1/dashboard/top-users?range=24h&sort=tokens", "/v1/dashboard/models?range=24h",
      "/v1/dashboard/timeseries?range=6h",
      "/v1/dashboard/timeseries?from=2026-02-01T00:00:00Z&to=2026-02-08T00:00:00Z&granularity=day",
      "/v1/dashboard/timeseries?range=24h&granularity=hour", "/v1/dashboard/overview?project=support",
      "/v1/dashboard/overview?user=u2", "/v1/dashboard/overview?user=unknown", "/v1/dashboard/overview?feature=contract-analysis",
      "/v1/dashboard/timeseries?range=6h&model=gpt-4o-mini", "/v1/dashboard/models?feature=checkout.ai_summary",
      "/v1/dashboard/top-endpoints?model=gpt-4.1"};
  std::vector<std::string> before;
  for (const std::string& t : targets) before.push_back(Get(t).body);
  EXPECT_GT(journal_->PendingRows(), 0u);
  ASSERT_TRUE(journal_->Fold().ok());
  EXPECT_EQ(journal_->PendingRows(), 0u);
  for (size_t i = 0; i < targets.size(); ++i) EXPECT_EQ(Get(targets[i]).body, before[i]) << targets[i];
  EXPECT_NE(before[0].find(R"("requests":2,)"), std::string::npos) << before[0];
  EXPECT_NE(before[8].find(R"("requests":1,)"), std::string::npos) << before[8];
  EXPECT_NE(before[12].find(R"("value":"gpt-4o-mini","requests":1,)"), std::string::npos) << before[12];
}

TEST_F(QueryApiTest, TopListsAreSortedAndLimited) {
  HttpResponse r = Get("/v1/dashboard/top-endpoints?range=24h");
  EXPECT_EQ(r.status, 200);
  size_t contract = r.body.find("\"value\":\"contract-analysis\"");
  size_t checkout = r.body.find("\"value\":\"checkout.ai_summary\"");
  ASSERT_NE(contract, std::string::npos);
  ASSERT_NE(checkout, std::string::npos);
  EXPECT_LT(contract, checkout) << "sorted by cost, highest first";
  EXPECT_NE(r.body.find(R"("value":"checkout.ai_summary","requests":1,"successes":1,"errors":0,"duplicates":1,)"),
            std::string::npos) << r.body;
  // Equal request counts keep name order, so the limit keeps checkout.ai_summary only.
  r = Get("/v1/dashboard/top-endpoints?range=24h&limit=1&sort=requests");
  EXPECT_NE(r.body.find(R"("sort":"requests","items":[{"value":"checkout.ai_summary",)"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("contract-analysis"), std::string::npos);
  r = Get("/v1/dashboard/models?range=24h");
  EXPECT_NE(r.body.find(R"("value":"gpt-4.1","requests":1)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("costUsd":"0.000319500")"), std::string::npos);
  r = Get("/v1/dashboard/top-tenants?range=24h");
  EXPECT_NE(r.body.find(R"("items":[{"value":"t1","requests":2,)"), std::string::npos) << r.body;
  r = Get("/v1/dashboard/top-users?range=24h&sort=tokens");
  EXPECT_LT(r.body.find("\"u2\""), r.body.find("\"u1\""));
  EXPECT_EQ(Get("/v1/dashboard/prompt-versions?range=24h").body.find("\"items\":[]") != std::string::npos, true);
}

// Every list view groups what an event does not say as "unknown"; projects, providers and
// environments have lists of their own; models counted without a price are listed with
// their provider, tokens and when they were seen.
TEST_F(QueryApiTest, ListsGroupWhatEventsDoNotSayAsUnknownAndUnpricedModelsAreListed) {
  UsageEvent c = testing::TestEvent("acme", "c", "acme-llm-9", 100, 10, kT);  // no user, tenant or project
  BatchPipeline more(*store_, *dedup_, *journal_, parser_, prices_, "tokenmeter.events");
  ConsumedRecord m{0, 4, "acme", ""};
  EncodeCanonical(c, m.value);
  auto prepared = more.Prepare(0, {m});
  ASSERT_TRUE(prepared.ok());
  ASSERT_TRUE(more.Commit(*prepared).ok());

  auto items = [this](const std::string& view) {
    std::string body = Get("/v1/dashboard/" + view + "?range=24h&sort=requests").body;
    std::string out;  // value:requests, in order
    for (size_t at = body.find("{\"value\":"); at != std::string::npos; at = body.find("{\"value\":", at + 1)) {
      size_t v = at + 9, req = body.find("\"requests\":", at) + 11;
      out += body.substr(v, body.find(',', v) - v) + ":" + body.substr(req, body.find(',', req) - req) + " ";
    }
    return out;
  };
  EXPECT_EQ(items("top-users"), R"("u1":1 "u2":1 "unknown":1 )");
  EXPECT_EQ(items("top-tenants"), R"("t1":2 "unknown":1 )");
  EXPECT_EQ(items("projects"), R"("unknown":2 "support":1 )");
  EXPECT_EQ(items("providers"), R"("openai":3 )");
  EXPECT_EQ(items("environments"), R"("prod":3 )");
  EXPECT_EQ(Get("/v1/dashboard/environments?range=24h&environment=staging").body.find("\"items\":[]") !=
                std::string::npos,
            true);

  HttpResponse r = Get("/v1/models/unpriced?range=1h");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"ok":true,"workspace":"acme","from":"2026-02-07T12:00:00.001Z","to":"2026-02-07T13:00:00.001Z",)"
            R"("dataMode":"real","retentionTruncated":false,"availableFrom":"2026-01-24T13:00:00.000Z",)"
            R"("items":[{"provider":"openai","model":"acme-llm-9","requests":1,"inputTokens":100,)"
            R"("outputTokens":10,"firstSeen":"2026-02-07T12:34:00.000Z","lastSeen":"2026-02-07T12:35:00.000Z"}]})");
  EXPECT_EQ(Get("/v1/models/unpriced?range=1h", globex_.key).body.find("\"items\":[]") != std::string::npos, true)
      << "per workspace";
  EXPECT_EQ(Get("/v1/models/other?range=1h").status, 404);
}

// A range reaching past what its granularity's retention keeps is read from the first
// bucket surely kept, and the answer says so (minute rows 14 days, hour rows 400).
TEST_F(QueryApiTest, ARangePastRetentionSaysWhereItsDataBegins) {
  HttpResponse r = Get("/v1/dashboard/overview?from=2026-01-01T00:00:00Z&to=2026-02-08T00:00:00Z&granularity=minute");
  EXPECT_NE(r.body.find(R"("retentionTruncated":true,"availableFrom":"2026-01-24T13:00:00.000Z","totals":{"requests":2,)"),
            std::string::npos) << r.body;
  r = Get("/v1/dashboard/top-endpoints?from=2025-01-01T00:00:00Z&to=2026-02-08T00:00:00Z&granularity=hour");
  EXPECT_NE(r.body.find(R"("retentionTruncated":true,"availableFrom":"2025-01-03T13:00:00.000Z")"), std::string::npos)
      << r.body;
  r = Get("/v1/dashboard/overview?from=2025-01-01T00:00:00Z&to=2026-02-08T00:00:00Z");
  EXPECT_NE(r.body.find(R"("retentionTruncated":false,"availableFrom":"2016-02-10T00:00:00.000Z","totals":{"requests":2,)"),
            std::string::npos) << "day rows: 3650 days " << r.body;
}

// The body of a streamed answer, every piece drained.
std::string Drain(HttpResponse& r) {
  std::string body;
  if (!r.stream) return r.body;
  while (r.stream(body)) {
  }
  return body;
}

// An export: one row per counted event of the window, its exact cost and attempts, in
// CSV, NDJSON or JSON, with the retention headers.
TEST_F(QueryApiTest, ExportsListEveryCountedEventExactly) {
  const std::string v = prices_->version();
  HttpResponse r = Get("/v1/export?range=24h");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  ASSERT_TRUE(r.stream) << "streamed, not built whole";
  EXPECT_EQ(Drain(r),
            "requestId,occurredAt,receivedAt,dataMode,environment,project,feature,promptVersion,userId,tenantId,"
            "provider,model,status,latencyMs,inputTokens,outputTokens,cachedTokens,cacheWriteTokens,reasoningTokens,"
            "costUsd,costNanoUsd,costSource,catalogVersion,attempts\r\n"
            "a,2026-02-07T12:34:56.000Z,2026-02-07T12:34:56.000Z,real,prod,,checkout.ai_summary,,u1,t1,openai,"
            "gpt-4o-mini,success,820,850,320,0,0,0,0.000319500,319500,catalog," + v + ",2\r\n"
            "b,2026-02-07T12:34:56.000Z,2026-02-07T12:34:56.000Z,real,prod,support,contract-analysis,,u2,t1,openai,"
            "gpt-4.1,error,1000,1200,450,0,0,0,0.006000000,6000000,catalog," + v + ",1\r\n");
  auto header = [&r](const std::string& name) {
    for (const auto& [k, value] : r.headers) {
      if (k == name) return value;
    }
    return std::string("?");
  };
  EXPECT_EQ(header("X-Retention-Truncated"), "false");
  EXPECT_EQ(header("X-Retention-Available-From-Utc"), "2026-01-08T13:00:00.000Z") << "events_days 30";

  r = Get("/v1/export?range=24h&format=ndjson&project=support");
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  EXPECT_EQ(Drain(r),
            R"({"requestId":"b","occurredAt":"2026-02-07T12:34:56.000Z","receivedAt":"2026-02-07T12:34:56.000Z",)"
            R"("dataMode":"real","environment":"prod","project":"support","feature":"contract-analysis",)"
            R"("promptVersion":null,"userId":"u2","tenantId":"t1","provider":"openai","model":"gpt-4.1",)"
            R"("status":"error","latencyMs":1000,"inputTokens":1200,"outputTokens":450,"cachedTokens":0,)"
            R"("cacheWriteTokens":0,"reasoningTokens":0,"costUsd":"0.006000000","costNanoUsd":6000000,)"
            R"("costSource":"catalog","catalogVersion":")" + v + R"(","attempts":1})" "\n");
  r = Get("/v1/export?from=2026-01-01T00:00:00Z&to=2026-02-08T00:00:00Z&format=json&user=u1");
  std::string json = Drain(r);
  EXPECT_EQ(json.rfind(R"({"ok":true,"workspace":"acme","from":"2026-01-01T00:00:00.000Z","to":"2026-02-08T00:00:00.000Z",)"
                       R"("events":[{"requestId":"a",)", 0), 0u) << json;
  EXPECT_EQ(json.substr(json.size() - 15), R"("attempts":2}]})");
  EXPECT_EQ(header("X-Retention-Truncated"), "true") << "January 1st is past the events' 30 days";
  HttpResponse other = Get("/v1/export?range=24h&format=csv", globex_.key);
  const std::string globex = Drain(other);
  EXPECT_NE(globex.find("\r\ng,"), std::string::npos);
  EXPECT_EQ(globex.find("\r\na,"), std::string::npos) << "a workspace's export holds only its own events";
  r = Get("/v1/export?range=24h&format=focus&feature=contract-analysis");
  EXPECT_EQ(Drain(r),
            "BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargeCategory,ChargeDescription,ChargePeriodStart,"
            "ChargePeriodEnd,ConsumedQuantity,ConsumedUnit,ProviderName,PublisherName,ServiceName,SkuId,ResourceId,"
            "x_Feature,x_PromptVersion,x_Project,x_Environment,x_User,x_Tenant,x_DataMode,x_CostSource,x_Attempts\r\n"
            "0.006000000,0.006000000,0.006000000,USD,Usage,gpt-4.1 tokens,2026-02-07T12:34:00.000Z,"
            "2026-02-07T12:35:00.000Z,1650,Tokens,openai,openai,gpt-4.1,gpt-4.1,b,contract-analysis,,support,prod,u2,t1,"
            "real,catalog,1\r\n");
  EXPECT_EQ(Get("/v1/export?format=xml").status, 400);
}

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, value] : r.headers) {
    if (k == name) return value;
  }
  return "?";
}

// An export of rollups: a row per bucket, data mode, scope and value of one dimension,
// the same whether the rows are folded or not.
TEST_F(QueryApiTest, ExportsRollupRowsExactlyFoldedOrNot) {
  const std::string header =
      "bucketStart,bucketEnd,granularity,dataMode,environment,project,dimension,value,requests,successes,errors,"
      "duplicates,inputTokens,outputTokens,cachedTokens,cacheWriteTokens,reasoningTokens,costUsd,costNanoUsd,"
      "unpricedRequests,latencyCount,latencySumMs,p50LatencyMs,p95LatencyMs,p99LatencyMs\r\n";
  const std::string totals =
      header +
      "2026-02-07T12:00:00.000Z,2026-02-07T13:00:00.000Z,hour,real,prod,,total,,1,1,0,1,850,320,0,0,0,0.000319500,"
      "319500,0,1,820,869,869,869\r\n"
      "2026-02-07T12:00:00.000Z,2026-02-07T13:00:00.000Z,hour,real,prod,support,total,,1,0,1,0,1200,450,0,0,0,"
      "0.006000000,6000000,0,1,1000,1052,1052,1052\r\n";
  HttpResponse r = Get("/v1/export?of=rollups&range=24h");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  ASSERT_TRUE(r.stream) << "streamed, not built whole";
  EXPECT_EQ(Drain(r), totals) << "unfolded";
  EXPECT_EQ(HeaderOf(r, "X-Retention-Truncated"), "false");
  EXPECT_EQ(HeaderOf(r, "X-Retention-Available-From-Utc"), "2025-01-03T13:00:00.000Z") << "hour rows: 400 days";
  ASSERT_TRUE(journal_->Fold().ok());
  r = Get("/v1/export?of=rollups&range=24h");
  EXPECT_EQ(Drain(r), totals) << "folded";
  r = Get("/v1/export?of=rollups&range=24h&dataMode=all");
  EXPECT_EQ(Drain(r), totals) << "three modes, nothing pending in any";

  r = Get("/v1/export?of=rollups&range=24h&dimension=user&format=ndjson&project=support");
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  EXPECT_EQ(Drain(r),
            R"({"bucketStart":"2026-02-07T12:00:00.000Z","bucketEnd":"2026-02-07T13:00:00.000Z","granularity":"hour",)"
            R"("dataMode":"real","environment":"prod","project":"support","dimension":"user","value":"u2","requests":1,)"
            R"("successes":0,"errors":1,"duplicates":0,"inputTokens":1200,"outputTokens":450,"cachedTokens":0,)"
            R"("cacheWriteTokens":0,"reasoningTokens":0,"costUsd":"0.006000000","costNanoUsd":6000000,)"
            R"("unpricedRequests":0,"latencyCount":1,"latencySumMs":1000,"p50LatencyMs":1052,"p95LatencyMs":1052,)"
            R"("p99LatencyMs":1052})" "\n");
  r = Get("/v1/export?of=rollups&from=2026-01-01T00:00:00Z&to=2026-02-08T00:00:00Z&granularity=minute&format=json&user=u1");
  std::string json = Drain(r);
  EXPECT_EQ(HeaderOf(r, "X-Retention-Truncated"), "true") << "minute rows: 14 days";
  EXPECT_EQ(json.rfind(R"({"ok":true,"workspace":"acme","from":"2026-01-01T00:00:00.000Z","to":"2026-02-08T00:00:00.000Z",)"
                       R"("granularity":"minute","dimension":"user","rows":[{"bucketStart":"2026-02-07T12:34:00.000Z",)",
                       0),
            0u)
      << json;
  EXPECT_NE(json.find(R"("value":"u1","requests":1,)"), std::string::npos) << json;
  EXPECT_EQ(json.find("u2"), std::string::npos) << "only the attribute's value";
  EXPECT_EQ(json.substr(json.size() - 3), "}]}");

  EXPECT_EQ(Get("/v1/export?of=rollups&format=focus").status, 400);
  EXPECT_EQ(Get("/v1/export?of=rollups&dimension=colour").status, 400);
  EXPECT_EQ(Get("/v1/export?of=rollups&dimension=model&user=u1").status, 400);
  EXPECT_EQ(Get("/v1/export?of=budgets").status, 400);
}

// Rows on many pieces of the stream, some folded, some with deltas not yet folded and
// some with both, each once with its sum.
TEST_F(QueryApiTest, ARollupExportMergesFoldedRowsAndPendingDeltasAcrossPieces) {
  std::vector<UsageEvent> first, second;
  for (int i = 0; i < 1200; ++i) {
    char user[8];
    std::snprintf(user, sizeof(user), "v%04d", i);
    first.push_back(Event("f" + std::to_string(i), "gpt-4o-mini", 100, 10, "x", user, CallStatus::kSuccess, 5));
    if (i % 3 == 0) {
      second.push_back(Event("s" + std::to_string(i), "gpt-4o-mini", 100, 10, "x", user, CallStatus::kSuccess, 5));
    }
  }
  Apply(first);
  ASSERT_TRUE(journal_->Fold().ok());
  Apply(second);  // published, not folded
  UsageEvent last = Event("late", "gpt-4o-mini", 100, 10, "x", "zz-new", CallStatus::kSuccess, 5);
  Apply({last});  // a row with only a pending delta, after every folded one
  ASSERT_GT(journal_->PendingRows(), 0u);
  HttpResponse r = Get("/v1/export?of=rollups&range=24h&dimension=user&format=ndjson");
  std::string body = Drain(r);
  std::map<std::string, int> requests;
  size_t rows = 0;
  for (size_t at = 0; at < body.size();) {
    size_t end = body.find('\n', at);
    std::string line = body.substr(at, end - at);
    at = end + 1;
    ++rows;
    size_t v = line.find(R"("value":")") + 9;
    std::string user = line.substr(v, line.find('"', v) - v);
    size_t q = line.find(R"("requests":)") + 11;
    requests[user] += std::stoi(line.substr(q));
  }
  EXPECT_EQ(rows, 1203u) << "1,200 users, u1 and u2, zz-new; each once";
  EXPECT_EQ(requests.size(), 1203u);
  EXPECT_EQ(requests["v0000"], 2);
  EXPECT_EQ(requests["v0001"], 1);
  EXPECT_EQ(requests["v0999"], 2);
  EXPECT_EQ(requests["v1199"], 1);
  EXPECT_EQ(requests["zz-new"], 1);
  int total = 0;
  for (const auto& [user, n] : requests) total += n;
  EXPECT_EQ(total, 2 + 1200 + 400 + 1);
}

TEST_F(QueryApiTest, TimeseriesHasOnePointPerBucket) {
  HttpResponse r = Get("/v1/dashboard/timeseries?range=6h");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("granularity":"minute","points":[{"t":"2026-02-07T12:34:00.000Z","requests":2,)"),
            std::string::npos) << r.body;
  r = Get("/v1/dashboard/timeseries?from=2026-02-01T00:00:00Z&to=2026-02-08T00:00:00Z&granularity=day");
  EXPECT_NE(r.body.find(R"("granularity":"day","points":[{"t":"2026-02-07T00:00:00.000Z","requests":2,)"),
            std::string::npos) << r.body;
  r = Get("/v1/dashboard/timeseries?from=2026-02-08T00:00:00Z&to=2026-02-09T00:00:00Z");
  EXPECT_NE(r.body.find(R"("points":[])"), std::string::npos) << r.body;
}

TEST_F(QueryApiTest, FiltersNarrowTheTotals) {
  EXPECT_NE(Get("/v1/dashboard/overview?project=support").body.find(R"("requests":1,"successes":0,"errors":1)"),
            std::string::npos);
  EXPECT_NE(Get("/v1/dashboard/overview?environment=staging").body.find(R"("requests":0,)"), std::string::npos);
  EXPECT_NE(Get("/v1/dashboard/overview?dataMode=test").body.find(R"("requests":0,)"), std::string::npos);
  EXPECT_NE(Get("/v1/dashboard/overview?dataMode=all").body.find(R"("requests":2,)"), std::string::npos);
}

// Every view narrows to one project ("unknown": events without one), lists included,
// and on overview a project combines with a drill-down attribute.
TEST_F(QueryApiTest, EveryViewNarrowsToOneProject) {
  auto values = [this](const std::string& query) {
    std::string body = Get(query).body;
    std::string out;
    for (size_t at = body.find("{\"value\":"); at != std::string::npos; at = body.find("{\"value\":", at + 1)) {
      size_t v = at + 10, req = body.find("\"requests\":", at) + 11;
      out += body.substr(v, body.find('"', v) - v) + ":" + body.substr(req, body.find(',', req) - req) + " ";
    }
    return out;
  };
  EXPECT_EQ(values("/v1/dashboard/top-endpoints?project=support"), "contract-analysis:1 ");
  EXPECT_EQ(values("/v1/dashboard/top-endpoints?project=unknown"), "checkout.ai_summary:1 ");
  EXPECT_EQ(values("/v1/dashboard/top-users?project=support"), "u2:1 ");
  EXPECT_EQ(values("/v1/dashboard/models?project=support"), "gpt-4.1:1 ");
  EXPECT_EQ(values("/v1/dashboard/projects?project=support"), "support:1 ");
  EXPECT_EQ(values("/v1/dashboard/environments?project=support"), "prod:1 ");
  EXPECT_EQ(values("/v1/dashboard/top-endpoints?project=nope"), "");
  EXPECT_NE(Get("/v1/dashboard/overview?project=support&feature=contract-analysis").body.find(R"("costUsd":"0.006000000")"),
            std::string::npos);
  EXPECT_NE(Get("/v1/dashboard/overview?project=unknown&feature=contract-analysis").body.find(R"("requests":0,)"),
            std::string::npos);
  EXPECT_NE(Get("/v1/dashboard/timeseries?range=6h&project=support").body.find(
                R"("points":[{"t":"2026-02-07T12:34:00.000Z","requests":1,)"),
            std::string::npos);
}

// The drill-down: overview and timeseries narrowed to one feature, model, user, ...
TEST_F(QueryApiTest, OverviewAndTimeseriesNarrowToOneAttribute) {
  auto requests = [this](const std::string& q) {
    std::string body = Get("/v1/dashboard/overview?range=24h&" + q).body;
    size_t at = body.find("\"requests\":");
    return at == std::string::npos ? std::string("?") + body : body.substr(at + 11, body.find(',', at) - at - 11);
  };
  EXPECT_EQ(requests("feature=contract-analysis"), "1");
  EXPECT_EQ(requests("feature=checkout.ai_summary"), "1");
  EXPECT_EQ(requests("model=gpt-4o-mini"), "1");
  EXPECT_EQ(requests("user=u2"), "1");
  EXPECT_EQ(requests("tenant=t1"), "2");
  EXPECT_EQ(requests("project=unknown"), "1") << "the event without a project";
  EXPECT_EQ(requests("promptVersion=nope"), "0");
  EXPECT_NE(Get("/v1/dashboard/timeseries?range=6h&feature=contract-analysis").body.find(R"("points":[{"t":"2026-02-07T12:34:00.000Z","requests":1,)"),
            std::string::npos);
  HttpResponse two = Get("/v1/dashboard/overview?feature=a&user=b");
  EXPECT_EQ(two.status, 400);
  EXPECT_NE(two.body.find("give at most one of feature, promptVersion"), std::string::npos) << two.body;
  EXPECT_EQ(Get("/v1/dashboard/overview?model=a&promptVersion=b").status, 400) << "a pair is a feature and one more";
  HttpResponse users = Get("/v1/dashboard/top-users?feature=contract-analysis");
  EXPECT_EQ(users.status, 400);
  EXPECT_NE(users.body.find("a list narrowed to a feature lists its prompt versions or models"), std::string::npos)
      << users.body;
}

// A feature's prompt versions and models, a prompt version's or a model's features: lists
// narrowed by the pair rows, and overview, timeseries and the events export narrowed to a
// feature with one of its prompt versions or models; folded or not.
TEST_F(QueryApiTest, ListsNarrowToAFeatureAndAFeatureToOnePromptVersionOrModel) {
  auto call = [](const std::string& id, const std::string& feature, const std::string& prompt, const std::string& model,
                 uint64_t in) {
    UsageEvent e = Event(id, model, in, 0, feature, "u1", CallStatus::kSuccess, 100);
    e.prompt_version = prompt;
    return e;
  };
  // gpt-4o-mini 150 nano per input token, gpt-4.1 2,000.
  Apply({call("c", "chat", "v1", "gpt-4o-mini", 1000), call("d", "chat", "v2", "gpt-4.1", 1000),
         call("e", "chat", "v2", "gpt-4.1", 500), call("f", "search", "v2", "gpt-4o-mini", 100)});
  auto values = [this](const std::string& query) {
    std::string body = Get(query).body;
    std::string out;
    for (size_t at = body.find("{\"value\":"); at != std::string::npos; at = body.find("{\"value\":", at + 1)) {
      size_t v = at + 10, req = body.find("\"requests\":", at) + 11, cost = body.find("\"costNanoUsd\":", at) + 14;
      out += body.substr(v, body.find('"', v) - v) + ":" + body.substr(req, body.find(',', req) - req) + ":" +
             body.substr(cost, body.find(',', cost) - cost) + " ";
    }
    return out.empty() && body.find("\"items\":[]") == std::string::npos ? body : out;
  };
  auto totals = [this](const std::string& query) {
    std::string body = Get(query).body;
    size_t req = body.find("\"requests\":"), cost = body.find("\"costNanoUsd\":");
    if (req == std::string::npos || cost == std::string::npos) return body;
    return body.substr(req + 11, body.find(',', req) - req - 11) + ":" +
           body.substr(cost + 14, body.find(',', cost) - cost - 14);
  };
  for (const char* when : {"unfolded", "folded"}) {
    SCOPED_TRACE(when);
    EXPECT_EQ(values("/v1/dashboard/prompt-versions?range=24h"), "v2:3:3015000 v1:1:150000 ");
    EXPECT_EQ(values("/v1/dashboard/prompt-versions?range=24h&feature=chat"), "v2:2:3000000 v1:1:150000 ");
    EXPECT_EQ(values("/v1/dashboard/prompt-versions?range=24h&feature=search"), "v2:1:15000 ");
    EXPECT_EQ(values("/v1/dashboard/prompt-versions?range=24h&feature=chat&sort=requests&limit=1"), "v2:2:3000000 ");
    EXPECT_EQ(values("/v1/dashboard/models?range=24h&feature=chat"), "gpt-4.1:2:3000000 gpt-4o-mini:1:150000 ");
    EXPECT_EQ(values("/v1/dashboard/models?range=24h&feature=checkout.ai_summary"), "gpt-4o-mini:1:319500 ")
        << "a counted once, its retry in no pair row";
    EXPECT_EQ(values("/v1/dashboard/top-endpoints?range=24h&promptVersion=v2"), "chat:2:3000000 search:1:15000 ");
    EXPECT_EQ(values("/v1/dashboard/top-endpoints?range=24h&model=gpt-4o-mini"),
              "checkout.ai_summary:1:319500 chat:1:150000 search:1:15000 ");
    EXPECT_EQ(values("/v1/dashboard/models?range=24h&feature=chat&project=support"), "") << "no chat call in support";
    EXPECT_EQ(totals("/v1/dashboard/overview?range=24h&feature=chat&promptVersion=v2"), "2:3000000");
    EXPECT_EQ(totals("/v1/dashboard/overview?range=24h&feature=chat&model=gpt-4o-mini"), "1:150000");
    EXPECT_EQ(totals("/v1/dashboard/overview?range=24h&feature=search&promptVersion=v1"), "0:0");
    EXPECT_EQ(totals("/v1/dashboard/timeseries?range=6h&feature=chat&promptVersion=v2"), "2:3000000");
    ASSERT_TRUE(journal_->Fold().ok());
  }
  HttpResponse r = Get("/v1/export?range=24h&format=csv&feature=chat&promptVersion=v2");
  const std::string csv = Drain(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;  // the header, d and e
  EXPECT_NE(csv.find("\r\nd,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\r\ne,"), std::string::npos) << csv;
  HttpResponse rollups = Get("/v1/export?of=rollups&range=24h&feature=chat&promptVersion=v2");
  EXPECT_EQ(rollups.status, 400);
  EXPECT_NE(rollups.body.find("a rollup export takes one drill-down attribute"), std::string::npos) << rollups.body;
}

TEST_F(QueryApiTest, EventViewShowsAttemptsAndExactCost) {
  HttpResponse r = Get("/v1/events/a");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.rfind(R"({"ok":true,"requestId":"a","attempts":2,"firstSeenAt":"2026-02-07T12:34:56.000Z","event":{"v":1,"workspace":"acme","request_id":"a",)", 0), 0u) << r.body;
  EXPECT_NE(r.body.find(R"("cost":{"cost_usd":"0.000319500","cost_source":"catalog","catalog_version":"litellm-)"),
            std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("breakdown_usd":{"input":"0.000127500","cached":"0.000000000","cache_write":"0.000000000","output":"0.000192000","reasoning":"0.000000000"}})"),
            std::string::npos) << r.body;
  EXPECT_EQ(Get("/v1/events/nope").status, 404);
}

TEST_F(QueryApiTest, AnEventPastItsRetentionIsNotShownButStillCountsInTheRollups) {
  // Default retention: event rows 30 days after occurredAt (kT), ids 35 days after
  // first seen (kT), whether or not a compaction has dropped the rows yet.
  clock_.Set(kT + std::chrono::days(30));
  EXPECT_EQ(Get("/v1/events/a").status, 200) << "exactly 30 days old: kept";
  clock_.Set(kT + std::chrono::days(30) + std::chrono::milliseconds(1));
  HttpResponse r = Get("/v1/events/a");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"not_found","message":"the event is past its retention"})");
  clock_.Set(kT + std::chrono::days(35) + std::chrono::milliseconds(1));
  r = Get("/v1/events/a");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"not_found","message":"no event with this requestId in this workspace"})");
  r = Get("/v1/dashboard/overview?from=2026-02-07T00:00:00Z&to=2026-02-08T00:00:00Z");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("requests":2,)"), std::string::npos) << r.body;
}

TEST_F(QueryApiTest, ALongerRetentionKeepsShowingTheEvent) {
  RetentionConfig longer;
  longer.events_days = 90;
  longer.dedup_days = 100;
  QueryApi api(*store_, *dedup_, *journal_, *keys_, clock_, longer);
  clock_.Set(kT + std::chrono::days(89));
  HttpRequest req;
  req.method = "GET";
  req.target = "/v1/events/a";
  req.api_key = member_.key;
  EXPECT_EQ(api.Handle(req).status, 200);
  clock_.Set(kT + std::chrono::days(91));
  EXPECT_EQ(api.Handle(req).status, 404);
}

TEST_F(QueryApiTest, ADamagedEventRowIsAnErrorNotAHalfShownEvent) {
  Result<DedupChoice> dedup = FindDedup(*store_, *dedup_, DedupKey("acme", "a"));
  ASSERT_TRUE(dedup.ok() && dedup->record.has_value());
  const std::optional<DedupRecord>& record = dedup->record;
  auto row = store_->Get(Family::kEvents, record->event_key);
  ASSERT_TRUE(row.ok() && row->has_value());
  StateStore::Batch b = store_->NewBatch();
  b.Put(Family::kEvents, record->event_key, (**row).substr(0, (**row).size() / 2));
  ASSERT_TRUE(store_->Commit(b).ok());
  HttpResponse r = Get("/v1/events/a");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"corrupt_state","message":"the stored event cannot be read"})");
  EXPECT_EQ(Get("/v1/dashboard/overview").status, 200) << "the rest keeps serving";
}

TEST_F(QueryApiTest, KeysSeeOnlyTheirWorkspaceAndIngestKeysCannotRead) {
  EXPECT_EQ(Get("/v1/dashboard/overview", "").status, 200);
  HttpRequest anonymous;
  anonymous.method = "GET";
  anonymous.target = "/v1/dashboard/overview";
  EXPECT_EQ(api_->Handle(anonymous).status, 401);
  HttpResponse r = Get("/v1/dashboard/overview", ingest_.key);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"ok":false,"reason":"forbidden","message":"an ingest key cannot read; use an owner, admin or member key"})");
  r = Get("/v1/dashboard/overview", globex_.key);
  EXPECT_NE(r.body.find(R"("workspace":"globex")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("requests":1,)"), std::string::npos) << "only globex's one event";
  EXPECT_EQ(Get("/v1/events/a", globex_.key).status, 404) << "another workspace's id is not found";
  EXPECT_EQ(Get("/v1/events/g", owner_.key).status, 404);
}

TEST_F(QueryApiTest, BadQueriesAreExplained) {
  HttpResponse r = Get("/v1/dashboard/overview?range=2h");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"j({"ok":false,"reason":"bad_query","message":"range must be 1h, 6h, 24h, 7d or 30d (or give from/to)"})j");
  EXPECT_EQ(Get("/v1/dashboard/top-users?limit=0").status, 400);
  EXPECT_EQ(Get("/v1/dashboard/top-users?sort=alpha").status, 400);
  EXPECT_EQ(Get("/v1/dashboard/overview?dataMode=prod").status, 400);
  EXPECT_EQ(Get("/v1/dashboard/overview?from=2026-02-08T00:00:00Z&to=2026-02-07T00:00:00Z").status, 400);
  EXPECT_EQ(Get("/v1/dashboard/top-users?model=gpt-4.1").status, 400);
  EXPECT_EQ(Get("/v1/dashboard/nothing").status, 404);
}

}  // namespace
}  // namespace tokenmeter
