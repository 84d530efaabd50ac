// Every detector against tests/golden/detectors/cases.jsonl: synthetic series that must
// fire (with the exact observed, baseline and threshold) and series that must stay silent
// (a noisy baseline, too few requests, too short a history, a healthy burst, a single
// tenant, ...). New cases are added as data. Figures are worked out by hand in the file's
// terms: windows are [requests, successes, cost nano-USD, unpriced].
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>

#include "evaluate/detectors.h"

namespace tokenmeter {
namespace {

WindowStats Window(const rapidjson::Value& v) {
  return {v[0].GetInt64(), v[1].GetInt64(), v[2].GetInt64(), v[3].GetInt64()};
}

TEST(DetectorsGoldenTest, EachCaseFiresOrStaysSilentAsWritten) {
  std::ifstream in(std::string(TM_GOLDEN_DIR) + "/detectors/cases.jsonl");
  ASSERT_TRUE(in) << "missing golden file";
  DetectorConfig config;  // the documented defaults
  std::map<std::string, std::pair<int, int>> fired_silent;
  std::string line;
  while (std::getline(in, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << line;
    std::string detector = d["detector"].GetString(), name = d["case"].GetString();
    std::vector<WindowStats> previous;
    if (d.HasMember("previous")) {
      for (const auto& w : d["previous"].GetArray()) previous.push_back(Window(w));
    }
    std::optional<Finding> f;
    if (detector == "cost_per_request") {
      f = CostPerRequestDrift(previous, Window(d["current"]), config);
    } else if (detector == "spend_spike") {
      f = SpendSpike(previous, Window(d["current"]), config);
    } else if (detector == "request_burst") {
      f = RequestBurst(previous, Window(d["current"]), config);
    } else if (detector == "tenant_concentration") {
      std::map<std::string, int64_t> tenants;
      for (const auto& m : d["tenants"].GetObject()) tenants[m.name.GetString()] = m.value.GetInt64();
      f = TenantConcentration(tenants, d["total"].GetInt64(), config);
    } else if (detector == "unpriced_share") {
      f = UnpricedShare(Window(d["current"]), config);
    } else {
      FAIL() << "unknown detector " << detector;
    }
    bool want = d["fire"].GetBool();
    EXPECT_EQ(f.has_value(), want) << detector << ": " << name;
    ++(want ? fired_silent[detector].first : fired_silent[detector].second);
    if (!f || !want) continue;
    auto text = [&](const char* k) { return d.HasMember(k) ? std::string(d[k].GetString()) : std::string(); };
    EXPECT_EQ(f->observed, text("observed")) << name;
    EXPECT_EQ(f->baseline, text("baseline")) << name;
    EXPECT_EQ(f->threshold, text("threshold")) << name;
    if (d.HasMember("what")) {
      EXPECT_EQ(f->what, text("what")) << name;
    }
  }
  // At least two cases each way for every detector.
  for (const char* det : {"cost_per_request", "spend_spike", "request_burst", "tenant_concentration", "unpriced_share"}) {
    EXPECT_GE(fired_silent[det].first, 2) << det;
    EXPECT_GE(fired_silent[det].second, 2) << det;
  }
}

}  // namespace
}  // namespace tokenmeter
