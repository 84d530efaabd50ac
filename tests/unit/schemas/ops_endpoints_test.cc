// OpsEndpoints: the bodies every process answers on /healthz, /readyz and /metrics.
#include "tokenmeter/http/ops_endpoints.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace tokenmeter {
namespace {

TEST(OpsEndpointsTest, ReadyzSaysWhyNotAndWhatTheProcessAddsWhenReady) {
  prometheus::Registry registry;
  std::optional<OpsEndpoints::Unready> unready;
  OpsEndpoints::Hooks hooks;
  hooks.unready = [&unready] { return unready; };
  hooks.ready_members = [] { return std::string(R"(,"assignedPartitions":3)"); };
  OpsEndpoints ops(registry, std::move(hooks));

  HttpResponse ready = ops.Answer("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"ok":true,"ready":true,"assignedPartitions":3})");
  unready = OpsEndpoints::Unready{"disk_full", "the state store's disk is full"};
  HttpResponse full = ops.Answer("HEAD", "/readyz");
  EXPECT_EQ(full.status, 503);
  EXPECT_EQ(full.body, R"({"ok":false,"reason":"disk_full","message":"the state store's disk is full"})");
  HttpResponse health = ops.Answer("GET", "/healthz");
  EXPECT_EQ(health.status, 200) << "alive while not ready";
  EXPECT_EQ(health.body, R"({"ok":true})");
}

TEST(OpsEndpointsTest, MetricsSampleFirstAndOnlyGetIsAllowed) {
  prometheus::Registry registry;
  prometheus::Counter& c =
      prometheus::BuildCounter().Name("tokenmeter_test_total").Help("t").Register(registry).Add({});
  OpsEndpoints::Hooks hooks;
  hooks.before_scrape = [&c] { c.Increment(2); };
  OpsEndpoints ops(registry, std::move(hooks));

  HttpResponse m = ops.Answer("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("tokenmeter_test_total 2"), std::string::npos) << m.body;
  HttpResponse post = ops.Answer("POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  ASSERT_EQ(post.headers.size(), 1u);
  EXPECT_EQ(post.headers[0].first, "Allow");
  EXPECT_EQ(post.headers[0].second, "GET");
  EXPECT_TRUE(OpsEndpoints::Serves("/metrics"));
  EXPECT_FALSE(OpsEndpoints::Serves("/metrics/x"));
}

}  // namespace
}  // namespace tokenmeter
