// Golden pricing cases (tests/golden/pricing/cases.jsonl): each line is an ingest event
// and its cost in nano-USD, worked out by hand from the catalog. New cases are data.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>

#include "price/cost_calculator.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/normalizer.h"
#include "tokenmeter/processor/pricing_rules.h"

namespace tokenmeter {
namespace {

TEST(PricingGoldenTest, EveryCaseCostsExactlyWhatWasWorkedOutByHand) {
  Result<PriceBook> book = PriceBook::FromEmbedded();
  ASSERT_TRUE(book.ok()) << book.status().ToString();
  IngestLimits limits;
  limits.max_past_skew = std::chrono::seconds(20LL * 365 * 86400);
  Normalizer normalizer = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, normalizer);
  IngestContext ctx;
  ctx.workspace = "acme";
  ctx.received_at = *ParseRfc3339("2026-02-07T12:00:00Z");

  std::ifstream in(std::string(TM_GOLDEN_DIR) + "/pricing/cases.jsonl");
  ASSERT_TRUE(in) << "missing cases.jsonl";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    rapidjson::Document c;
    c.Parse(line.c_str());
    ASSERT_FALSE(c.HasParseError()) << line;
    std::string name = c["name"].GetString();
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    c["event"].Accept(w);
    std::string body = sb.GetString();
    ParsedBody parsed = parser.ParseIngest(body, ctx);
    ASSERT_EQ(parsed.events.size(), 1u) << name << ": " << (parsed.errors.empty() ? "" : parsed.errors[0].message);
    Cost cost = PriceEvent(parsed.events[0], *book);
    EXPECT_EQ(CostSourceName(cost.source), c["source"].GetString()) << name;
    if (c["cost_nano"].IsNull()) {
      EXPECT_FALSE(cost.total.has_value()) << name;
    } else {
      ASSERT_TRUE(cost.total.has_value()) << name;
      EXPECT_EQ(cost.total->value, c["cost_nano"].GetInt64()) << name << " (" << c["why"].GetString() << ")";
    }
    EXPECT_EQ(cost.flags, c.HasMember("flags") ? c["flags"].GetUint() : 0u) << name;
    EXPECT_EQ(cost.tier_threshold, c.HasMember("tier") ? c["tier"].GetUint64() : 0u) << name;
    ++cases;
  }
  EXPECT_GE(cases, 19);
}

TEST(PricingTest, RoundingIsHalfToEvenOnce) {
  EXPECT_EQ(RoundFemtoToNano(0).value, 0);
  EXPECT_EQ(RoundFemtoToNano(499'999).value, 0);
  EXPECT_EQ(RoundFemtoToNano(500'000).value, 0);
  EXPECT_EQ(RoundFemtoToNano(500'001).value, 1);
  EXPECT_EQ(RoundFemtoToNano(1'500'000).value, 2);
  EXPECT_EQ(RoundFemtoToNano(2'500'000).value, 2);
  // The largest real case: 10^9 tokens at $600 per million tokens (6e11 femto each).
  unsigned __int128 big = static_cast<unsigned __int128>(1'000'000'000) * 600'000'000'000ull;
  EXPECT_EQ(RoundFemtoToNano(big).value, 600'000'000'000'000);
  EXPECT_EQ(RoundFemtoToNano(big * 1'000'000'000).value, std::numeric_limits<int64_t>::max());
}

TEST(PricingTest, ACostBeyondInt64NanoUsdIsUnpricedAndFlagged) {
  Result<PriceBook> book = PriceBook::FromJson(
      R"({"catalog_version":"v","models":[{"provider":"p","model":"absurd","prices":{"input":"100000000000000000","output":"1"}}]})",
      R"({"aliases":{}})");
  ASSERT_TRUE(book.ok());
  UsageEvent e;
  e.provider = "p";
  e.model = "absurd";
  e.input_tokens = 1'000'000'000;  // 1e9 tokens at $100 each = $1e11 > int64 nano-USD
  Cost c = PriceEvent(e, *book);
  EXPECT_EQ(c.source, CostSource::kUnpriced);
  EXPECT_FALSE(c.total.has_value());
  EXPECT_EQ(c.flags, static_cast<uint32_t>(kFlagCostOverflow));
  e.input_tokens = 1000;
  EXPECT_EQ(PriceEvent(e, *book).total, NanoUsd{100'000'000'000'000});
}

TEST(PricingTest, PriceBookRejectsMalformedCatalogs) {
  const char* aliases = R"({"aliases":{}})";
  EXPECT_FALSE(PriceBook::FromJson("[]", aliases).ok());
  EXPECT_FALSE(PriceBook::FromJson(R"({"catalog_version":"x","models":[{"provider":"p","model":"m","prices":{"input":"1.5","output":"2"}}]})", aliases).ok());
  EXPECT_FALSE(PriceBook::FromJson(R"({"catalog_version":"x","models":[{"provider":"p","model":"m","prices":{"input":"1"}}]})", aliases).ok());
  EXPECT_FALSE(PriceBook::FromJson(R"({"catalog_version":"x","models":[{"provider":"p","model":"m","prices":{"input":"1","output":"2","audio":"3"}}]})", aliases).ok());
  Result<PriceBook> ok = PriceBook::FromJson(
      R"({"catalog_version":"v1","models":[{"provider":"p","model":"m","effective_from":"2026-01-01T00:00:00Z","prices":{"input":"1","output":"2"}}]})", aliases);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->version(), "v1");
  EXPECT_EQ(ok->Find("p", "m", *ParseRfc3339("2025-12-31T23:59:59Z")), nullptr) << "not yet priced";
  EXPECT_NE(ok->Find("p", "m", *ParseRfc3339("2026-01-01T00:00:00Z")), nullptr);
}

UsageEvent Call(const std::string& ws, const std::string& provider, const std::string& model,
               const char* when) {
  UsageEvent e;
  e.workspace = ws;
  e.provider = provider;
  e.model = model;
  e.input_tokens = 1000;
  e.output_tokens = 100;
  e.occurred_at = *ParseRfc3339(when);
  return e;
}

TEST(PricingTest, WorkspaceOverridesApplyToTheirWorkspaceFromTheirDate) {
  PriceBook book = *PriceBook::FromEmbedded();
  PriceOverride o;
  o.workspace = "acme";
  o.provider = "openai";
  o.model = "gpt-4o";
  o.effective_from = *ParseRfc3339("2026-01-01T00:00:00Z");
  o.prices.input = 2'000'000'000;  // $2.00 per million tokens
  o.prices.output = 8'000'000'000;
  ASSERT_TRUE(book.AddOverride(o).ok());
  // acme from 2026: 1000*2000 + 100*8000 nano.
  Cost c = PriceEvent(Call("acme", "openai", "gpt-4o", "2026-02-01T00:00:00Z"), book);
  EXPECT_EQ(c.total, NanoUsd{2'800'000});
  EXPECT_EQ(c.source, CostSource::kWorkspaceOverride);
  // Before the override's date, and for other workspaces: the catalog (1000*2500 + 100*10000).
  EXPECT_EQ(PriceEvent(Call("acme", "openai", "gpt-4o", "2025-12-31T23:59:59Z"), book).total, NanoUsd{3'500'000});
  EXPECT_EQ(PriceEvent(Call("globex", "openai", "gpt-4o", "2026-02-01T00:00:00Z"), book).total, NanoUsd{3'500'000});
  // Unset components keep the catalog's: cached tokens at gpt-4o's 1,250 nano cache price.
  UsageEvent cached = Call("acme", "openai", "gpt-4o", "2026-02-01T00:00:00Z");
  cached.cached_tokens = 400;
  EXPECT_EQ(PriceEvent(cached, book).total, NanoUsd{600 * 2000 + 400 * 1250 + 100 * 8000});
  PriceOverride unknown = o;
  unknown.model = "house-model";
  unknown.prices.output.reset();
  EXPECT_FALSE(book.AddOverride(unknown).ok()) << "no catalog entry to take the output price from";
}

TEST(PricingTest, WorkspaceModelAliasesMapDeploymentNames) {
  PriceBook book = *PriceBook::FromEmbedded();
  UsageEvent e = Call("acme", "azure_openai", "prod-gpt4o-east", "2026-02-01T00:00:00Z");
  EXPECT_EQ(PriceEvent(e, book).source, CostSource::kUnpriced);
  ASSERT_TRUE(book.AddAlias({"acme", "azure_openai", "prod-gpt4o-east", "gpt-4o"}).ok());
  // Azure's gpt-4o entry: 1000*2500 + 100*10000 nano.
  EXPECT_EQ(PriceEvent(e, book).total, NanoUsd{3'500'000});
  e.workspace = "globex";
  EXPECT_EQ(PriceEvent(e, book).source, CostSource::kUnpriced) << "aliases are per workspace";
}

// The admin API's pricing: checked against the config file's (which wins for what it
// declares) and the catalog, then a book of both prices the workspace's calls.
TEST(PricingTest, TheSettingsPricingIsCheckedAndAddedToTheConfigFiles) {
  const WorkspaceModelAlias declared{"acme", "azure_openai", "prod-gpt4o-east", "gpt-4o"};
  auto rules = PricingRules::Make({}, {declared});
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  PriceOverride o;
  o.workspace = "acme";
  o.provider = "openai";
  o.model = "gpt-4o";
  o.prices.input = 2'000'000'000;  // $2.00 per million tokens
  o.prices.output = 8'000'000'000;
  PriceOverride house = o;
  house.model = "house-model";
  house.prices.output.reset();
  const WorkspaceModelAlias alias{"acme", "openai", "chat-default", "gpt-4o-mini"};
  EXPECT_TRUE((*rules)->Check({o}, {alias}).ok());
  EXPECT_EQ((*rules)->Check({o}, {declared}).message(),
            "the model alias azure_openai/prod-gpt4o-east is declared in the config file; change it there");
  EXPECT_EQ((*rules)->Check({o, o}, {}).message(), "the price of openai/gpt-4o is listed twice");
  EXPECT_EQ((*rules)->Check({house}, {}).message(),
            "price override for acme/openai/house-model needs input and output prices (the catalog has none for it)");
  auto book = (*rules)->BookWith({o}, {alias});
  ASSERT_TRUE(book.ok());
  // acme's gpt-4o at $2/$8: 1000*2000 + 100*8000 nano; its alias at gpt-4o-mini's 150/600.
  EXPECT_EQ(PriceEvent(Call("acme", "openai", "gpt-4o", "2026-02-01T00:00:00Z"), **book).total, NanoUsd{2'800'000});
  EXPECT_EQ(PriceEvent(Call("acme", "openai", "chat-default", "2026-02-01T00:00:00Z"), **book).total,
            NanoUsd{1000 * 150 + 100 * 600});
  EXPECT_EQ(PriceEvent(Call("acme", "azure_openai", "prod-gpt4o-east", "2026-02-01T00:00:00Z"), **book).total,
            NanoUsd{3'500'000})
      << "the config file's alias stays";
  EXPECT_EQ(PriceEvent(Call("acme", "openai", "gpt-4o", "2026-02-01T00:00:00Z"), *(*rules)->base()).total,
            NanoUsd{3'500'000})
      << "the config file's book is untouched";
}

// The names the hosted products' integration guides send, as a client sends them: each
// finds its catalog entry (undated names their newest dated version, "-latest" too),
// and the event is priced at that entry's prices.
TEST(PricingTest, ModelNamesAsClientsSendThemFindTheirCatalogEntry) {
  PriceBook book = *PriceBook::FromEmbedded();
  Normalizer names = *Normalizer::FromEmbeddedTable();
  struct Case {
    const char* provider;
    const char* model;
    const char* resolved;
    int64_t nano;  // 1000 input + 100 output tokens
  };
  for (const Case& c : std::initializer_list<Case>{
           {"anthropic", "claude-3-7-sonnet", "claude-3-7-sonnet-20250219", 4'500'000},
           {"anthropic", "claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219", 4'500'000},
           {"anthropic", "claude-3-7-sonnet-20250219", "claude-3-7-sonnet-20250219", 4'500'000},
           {"anthropic", "claude-3-5-haiku", "claude-3-5-haiku-20241022", 1'200'000},
           {"openai", "gpt-4.1", "gpt-4.1", 2'800'000},
           {"openai", "openai/gpt-4o-mini", "gpt-4o-mini", 210'000},
           {"gemini", "gemini-2.0-flash", "gemini-2.0-flash", 140'000},
       }) {
    const std::string provider = names.Provider(c.provider);
    const std::string model = names.Model(provider, c.model);
    EXPECT_EQ(book.Resolve(provider, model), c.resolved) << c.model;
    UsageEvent e = Call("acme", provider, model, "2026-02-01T00:00:00Z");
    EXPECT_EQ(PriceEvent(e, book).total, NanoUsd{c.nano}) << c.model;
  }
  EXPECT_EQ(book.Resolve("anthropic", "claude-9-opus"), "");
  EXPECT_EQ(book.Resolve("anthropic", "claude-9-opus-latest"), "");
}

TEST(PricingTest, EmbeddedCatalogRecordsItsSource) {
  Result<PriceBook> book = PriceBook::FromEmbedded();
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(book->version().rfind("litellm-", 0), 0u) << book->version();
  EXPECT_GT(book->size(), 500u);
}

}  // namespace
}  // namespace tokenmeter
