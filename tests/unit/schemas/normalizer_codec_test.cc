// Provider/model normalization from the data table, and the bus codec in both forms:
// canonical JSON and the binary record the edge sends.
#include <gtest/gtest.h>

#include <thread>

#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/normalizer.h"

namespace tokenmeter {
namespace {

TEST(NormalizerTest, ProviderAliasesFromTheTable) {
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EXPECT_EQ(n.Provider("gemini"), "google");
  EXPECT_EQ(n.Provider(" Vertex_AI "), "google");
  EXPECT_EQ(n.Provider("AZURE"), "azure_openai");
  EXPECT_EQ(n.Provider("claude"), "anthropic");
  EXPECT_EQ(n.Provider("bedrock"), "aws_bedrock");
  EXPECT_EQ(n.Provider("OpenAI"), "openai");
  EXPECT_EQ(n.Provider("Acme-LLM"), "acme-llm");  // unknown: lowercased, kept
}

TEST(NormalizerTest, ModelNamesLoseCaseAndProviderPrefix) {
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EXPECT_EQ(n.Model("openai", "GPT-4o-mini"), "gpt-4o-mini");
  EXPECT_EQ(n.Model("openai", "openai/gpt-4o"), "gpt-4o");
  EXPECT_EQ(n.Model("google", "models/gemini-2.0-flash"), "gemini-2.0-flash");
  EXPECT_EQ(n.Model("openai", "gpt4o"), "gpt-4o");
  EXPECT_EQ(n.Model("anthropic", "claude-3.5-haiku"), "claude-3-5-haiku");
  EXPECT_EQ(n.Model("anthropic", "claude-3-5-haiku-20241022"), "claude-3-5-haiku-20241022");
  // Every leading prefix goes, so a normalized name normalizes to itself (the processor
  // looks again at what the edge normalized).
  EXPECT_EQ(n.Model("google", "gemini/bedrock/-5-haiku"), "-5-haiku");
  for (const char* raw : {"gemini/bedrock/-5-haiku", "openai/openai/GPT4o", "models/gemini-2.0-flash", "gpt4o"}) {
    const std::string once = n.Model("x", raw);
    EXPECT_EQ(n.Model("x", once), once) << raw;
  }
}

// Each thread remembers the last names it normalized: the answers must be the table's
// whatever was asked before, of this table or another one, on this thread or another.
TEST(NormalizerTest, RememberedNamesAnswerAsTheirOwnTableDoes) {
  Normalizer a = *Normalizer::FromJson(
      R"({"providers":{"gemini":"google"},"models":{"gpt4":"gpt-4"},"model_prefixes":["models/"]})");
  Normalizer b = *Normalizer::FromJson(
      R"({"providers":{"gemini":"vertex"},"models":{"gpt4":"gpt-4-0613"},"model_prefixes":[]})");
  for (int round = 0; round < 3; ++round) {  // the first round fills the memo, then it answers
    EXPECT_EQ(a.Provider(" Gemini "), "google");
    EXPECT_EQ(b.Provider(" Gemini "), "vertex");
    EXPECT_EQ(a.Model("openai", "GPT4"), "gpt-4");
    EXPECT_EQ(b.Model("openai", "GPT4"), "gpt-4-0613");
    EXPECT_EQ(a.Model("google", "models/Gemini-2.0"), "gemini-2.0");
    EXPECT_EQ(b.Model("google", "models/Gemini-2.0"), "models/gemini-2.0");
  }
  // More names than the memo holds, twice over, each asked again right after others.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 20; ++i) {
      const std::string raw = "Model-" + std::to_string(i);
      EXPECT_EQ(a.Model("x", raw), "model-" + std::to_string(i));
      EXPECT_EQ(a.Model("x", "GPT4"), "gpt-4");
    }
  }
  // A name too long to be remembered, and a copy of a table (same answers).
  const std::string long_name(100, 'M');
  EXPECT_EQ(a.Model("x", long_name), std::string(100, 'm'));
  EXPECT_EQ(a.Model("x", long_name), std::string(100, 'm'));
  Normalizer copy = b;
  EXPECT_EQ(copy.Model("openai", "GPT4"), "gpt-4-0613");
  // Another thread starts with nothing remembered and gets the same answers.
  std::string on_other;
  std::thread([&] { on_other = a.Model("openai", "GPT4") + b.Provider("gemini"); }).join();
  EXPECT_EQ(on_other, "gpt-4vertex");
}

TEST(NormalizerTest, MalformedTableIsAnError) {
  EXPECT_FALSE(Normalizer::FromJson("[]").ok());
  EXPECT_FALSE(Normalizer::FromJson(R"({"providers":{},"models":{}})").ok());
  EXPECT_TRUE(Normalizer::FromJson(R"({"providers":{},"models":{},"model_prefixes":[]})").ok());
}

TEST(EventCodecTest, CanonicalRoundTripIsLossless) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  UsageEvent e = testing::FullEvent();
  std::string wire;
  EncodeCanonical(e, wire);
  Result<UsageEvent> back = parser.ParseCanonical(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << wire;
  EXPECT_EQ(*back, e);
}

// The processor parses every batch into the events of the last one: an event cleared
// for reuse parses exactly as a fresh one, whatever the last event had set.
TEST(EventCodecTest, AReusedEventKeepsNothingOfTheLastOne) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  std::string full_wire, small_wire, scratch;
  EncodeCanonical(testing::FullEvent(), full_wire);
  UsageEvent small;
  small.workspace = "acme";
  small.request_id = "r-2";
  small.provider = "openai";
  small.model = small.model_raw = "gpt-4o-mini";
  small.environment = "prod";
  small.occurred_at = small.received_at = *ParseRfc3339("2026-02-07T12:00:00.000Z");
  EncodeCanonical(small, small_wire);

  UsageEvent reused;
  ASSERT_TRUE(parser.ParseCanonical(full_wire, reused, scratch).ok());
  EXPECT_EQ(reused, testing::FullEvent());
  reused.project = "billing";  // the one member FullEvent leaves empty
  ClearKeepingCapacity(reused);
  EXPECT_EQ(reused, UsageEvent{});
  ASSERT_TRUE(parser.ParseCanonical(small_wire, reused, scratch).ok());
  EXPECT_EQ(reused, small);
  EXPECT_EQ(reused, *parser.ParseCanonical(small_wire));
}

TEST(EventCodecTest, CanonicalFormIsStable) {
  UsageEvent e;
  e.workspace = "acme";
  e.request_id = "r1";
  e.provider = "openai";
  e.model = "gpt-4o-mini";
  e.model_raw = "gpt-4o-mini";
  e.environment = "prod";
  e.input_tokens = 850;
  e.output_tokens = 320;
  e.estimated_cost = NanoUsd{1500};
  e.occurred_at = *ParseRfc3339("2026-02-07T12:00:00Z");
  e.received_at = e.occurred_at;
  std::string wire;
  EncodeCanonical(e, wire);
  EXPECT_EQ(wire,
            R"({"v":1,"workspace":"acme","request_id":"r1","provider":"openai","model":"gpt-4o-mini",)"
            R"("environment":"prod","data_mode":"real","input_tokens":850,"output_tokens":320,)"
            R"("estimated_cost_usd":0.000001500,"occurred_at":"2026-02-07T12:00:00.000Z",)"
            R"("received_at":"2026-02-07T12:00:00.000Z"})");
}

TEST(EventCodecTest, CanonicalDecodeRejectsBadRecords) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  const std::string base =
      R"("request_id":"r1","provider":"openai","model":"m","environment":"prod","data_mode":"real",)"
      R"("occurred_at":"2026-02-07T12:00:00.000Z","received_at":"2026-02-07T12:00:00.000Z")";
  EXPECT_TRUE(parser.ParseCanonical(R"({"v":1,"workspace":"acme",)" + base + "}").ok());
  Result<UsageEvent> no_ws = parser.ParseCanonical(R"({"v":1,)" + base + "}");
  ASSERT_FALSE(no_ws.ok());
  EXPECT_EQ(no_ws.status().message(), "workspace is required");
  EXPECT_EQ(parser.ParseCanonical(R"({"v":2,"workspace":"acme",)" + base + "}").status().message(),
            "v unsupported schema version (this build reads 1)");
  EXPECT_FALSE(parser.ParseCanonical("not json").ok());
  EXPECT_FALSE(parser.ParseCanonical(R"({"events":[]})").ok());
  // Opsmeter names are not canonical names.
  EXPECT_FALSE(parser.ParseCanonical(R"({"v":1,"workspace":"acme","externalRequestId":"r",)" +
                                     base.substr(base.find("\"provider\"")) + "}")
                   .ok());
}

// The processor's dead-letter reason follows the fault the parser names, not its words.
TEST(EventCodecTest, ARefusedRecordSaysWhetherItIsMalformedOrInvalid) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  std::string binary;
  EncodeBusRecord(testing::TestEvent("acme", "r1", "gpt-4o-mini", 1, 1,
                                     *ParseRfc3339("2026-02-07T12:00:00Z")),
                  binary);
  UsageEvent bad = testing::TestEvent("acme", "r2", "gpt-4o-mini", 1, 1,
                                      *ParseRfc3339("2026-02-07T12:00:00Z"));
  bad.data_mode = static_cast<DataMode>(9);
  std::string bad_mode;
  EncodeBusRecord(bad, bad_mode);
  std::string deep = R"({"v":1,"x":)" + std::string(40, '[') + std::string(40, ']') + "}";
  const std::pair<std::string, RecordFault> cases[] = {
      {"not json", RecordFault::kMalformed},
      {"[1]", RecordFault::kMalformed},
      {std::string("{\"v\":1\0}", 8), RecordFault::kMalformed},
      {binary.substr(0, binary.size() - 2), RecordFault::kMalformed},
      {R"({"v":1})", RecordFault::kInvalidEvent},
      {deep, RecordFault::kInvalidEvent},
      {bad_mode, RecordFault::kInvalidEvent},
      {binary, RecordFault::kNone},
  };
  UsageEvent e;
  std::string scratch;
  for (const auto& [record, fault] : cases) {
    ClearKeepingCapacity(e);
    RecordStatus s = parser.ParseCanonical(record, e, scratch);
    EXPECT_EQ(s.fault, fault) << s.message;
    EXPECT_EQ(s.ok(), s.message.empty()) << s.message;
  }
}

class BusRecordTest : public ::testing::Test {
 protected:
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
};

// The edge's binary record decodes to exactly the event it was made from, and to the
// same event as the JSON form: one set of rules whichever form a record arrives in.
TEST_F(BusRecordTest, BinaryRoundTripIsLosslessAndMatchesTheJsonForm) {
  UsageEvent small = testing::TestEvent("acme", "r-2", "gpt-4o-mini", 850, 320,
                                        *ParseRfc3339("2026-02-07T12:00:00.000Z"));
  for (const UsageEvent& e : {testing::FullEvent(), small}) {
    std::string binary, json;
    EncodeBusRecord(e, binary);
    EncodeCanonical(e, json);
    ASSERT_EQ(static_cast<unsigned char>(binary[0]), kBusRecordTag);
    EXPECT_LT(binary.size() * 2, json.size()) << binary.size() << " bytes against " << json.size();
    Result<UsageEvent> back = parser_.ParseCanonical(binary);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, e);
    EXPECT_EQ(*back, *parser_.ParseCanonical(json));
  }
  // Into an event that held a fuller one, as the processor decodes batch after batch.
  std::string full_wire, small_wire, scratch;
  EncodeBusRecord(testing::FullEvent(), full_wire);
  EncodeBusRecord(small, small_wire);
  UsageEvent reused;
  ASSERT_TRUE(parser_.ParseCanonical(full_wire, reused, scratch).ok());
  ClearKeepingCapacity(reused);
  ASSERT_TRUE(parser_.ParseCanonical(small_wire, reused, scratch).ok());
  EXPECT_EQ(reused, small);
}

// An event the client gave no time travels with that fact in both forms, and a record
// that claims it with an event time other than its receive time is refused.
TEST_F(BusRecordTest, ADefaultedEventTimeTravelsInBothFormsAndMustBeTheReceiveTime) {
  UsageEvent e = testing::TestEvent("acme", "r-3", "gpt-4o-mini", 850, 320,
                                    *ParseRfc3339("2026-02-07T12:00:00.000Z"));
  e.occurred_at_defaulted = true;
  std::string binary, json;
  EncodeBusRecord(e, binary);
  EncodeCanonical(e, json);
  EXPECT_NE(json.find(R"("occurred_at":"2026-02-07T12:00:00.000Z","occurred_at_defaulted":true,)"),
            std::string::npos)
      << json;
  for (const std::string& wire : {binary, json}) {
    Result<UsageEvent> back = parser_.ParseCanonical(wire);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, e);
  }
  UsageEvent bad = e;
  bad.occurred_at -= std::chrono::seconds(1);
  binary.clear();
  json.clear();
  EncodeBusRecord(bad, binary);
  EncodeCanonical(bad, json);
  EXPECT_EQ(parser_.ParseCanonical(binary).status().message(),
            "occurred_at is defaulted, so it must equal received_at");
  EXPECT_EQ(parser_.ParseCanonical(json).status().message(),
            "occurred_at_defaulted is true, so occurred_at must equal received_at");
  std::string not_bool = json;
  not_bool.replace(not_bool.find("true"), 4, "\"yes\"");
  EXPECT_EQ(parser_.ParseCanonical(not_bool).status().message(),
            "occurred_at_defaulted must be true or false");
}

TEST_F(BusRecordTest, ProviderAndModelAreNormalizedAgainAndWarningsRecomputed) {
  UsageEvent e =
      testing::TestEvent("acme", "r1", "x", 100, 20, *ParseRfc3339("2026-02-07T12:00:00Z"));
  e.provider = " Gemini ";
  e.model = "models/Gemini-2.0-Flash";
  e.model_raw.clear();
  e.total_tokens = 121;
  e.warnings = kWarnUnknownProject | (1u << 7);  // a bit this build does not know
  std::string wire;
  EncodeBusRecord(e, wire);
  Result<UsageEvent> got = parser_.ParseCanonical(wire);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->provider, "google");
  EXPECT_EQ(got->model, "gemini-2.0-flash");
  EXPECT_EQ(got->model_raw, "models/Gemini-2.0-Flash") << "an empty model_raw is the model as sent";
  EXPECT_EQ(got->warnings, kWarnUnknownProject | kWarnTotalTokensMismatch);
}

// Whoever wrote a binary record, it passes the checks the JSON form gets; every broken
// rule is named by its canonical field.
TEST_F(BusRecordTest, BinaryRecordsBreakingARuleAreRefusedWithTheFieldNamed) {
  const UsageEvent good = testing::TestEvent("acme", "r1", "gpt-4o-mini", 850, 320,
                                             *ParseRfc3339("2026-02-07T12:00:00Z"));
  auto refusal = [&](void (*breakit)(UsageEvent&)) {
    UsageEvent e = good;
    breakit(e);
    std::string wire;
    EncodeBusRecord(e, wire);
    Result<UsageEvent> got = parser_.ParseCanonical(wire);
    return got.ok() ? std::string("accepted") : got.status().message();
  };
  EXPECT_EQ(refusal([](UsageEvent&) {}), "accepted");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.workspace.clear(); }), "workspace must not be empty");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.request_id.clear(); }), "request_id must not be empty");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.request_id = "r\xc3\xa9"; }),
            "request_id must contain only printable ASCII characters");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.request_id.assign(129, 'r'); }),
            "request_id must be at most 128 bytes");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.provider.assign(65, 'p'); }),
            "provider must be at most 64 bytes");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.provider = "  "; }), "provider must not be empty");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.model.clear(); }), "model must not be empty");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.user_id.assign(257, 'u'); }),
            "user_id must be at most 256 bytes");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.tenant_id = "t\n"; }),
            "tenant_id must not contain control characters");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.endpoint_tag = "f\xc3"; }),
            "endpoint_tag must be valid UTF-8");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.data_mode = static_cast<DataMode>(9); }),
            "data_mode must be one of real, test, demo");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.status = static_cast<CallStatus>(4); }),
            "status must be one of success, error, timeout, cancelled");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.cached_tokens = 1'000'000'001; }),
            "cached_tokens must be at most 1000000000");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.total_tokens = 1'000'000'001; }),
            "total_tokens must be at most 1000000000");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.latency_ms = 86'400'001; }),
            "latency_ms must be at most 86400000");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.estimated_cost = NanoUsd{-1}; }),
            "estimated_cost_usd must be a non-negative decimal amount of USD, at most 1000000");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.estimated_cost = NanoUsd{1'000'000'000'000'001}; }),
            "estimated_cost_usd must be a non-negative decimal amount of USD, at most 1000000");
  EXPECT_EQ(refusal([](UsageEvent& e) { e.estimated_cost = NanoUsd{1'000'000'000'000'000}; }),
            "accepted");
  EXPECT_EQ(
      refusal([](UsageEvent& e) { e.occurred_at = TimePoint(std::chrono::milliseconds(-1)); }),
      "occurred_at must be a time between 1970 and 9999");
  EXPECT_EQ(refusal([](UsageEvent& e) {
              e.received_at = TimePoint(std::chrono::milliseconds(253'402'300'800'000));
            }),
            "received_at must be a time between 1970 and 9999");
  EXPECT_EQ(refusal([](UsageEvent& e) {
              e.workspace.clear();
              e.latency_ms = 86'400'001;
            }),
            "workspace must not be empty; latency_ms must be at most 86400000");
}

// Texts are scanned 8 bytes a step: a control byte is found at every position of a word
// and of the tail, and the bytes beside the control range pass.
TEST_F(BusRecordTest, EveryControlByteIsFoundWhereverItSits) {
  UsageEvent e =
      testing::TestEvent("acme", "r1", "gpt-4o-mini", 1, 1, *ParseRfc3339("2026-02-07T12:00:00Z"));
  auto verdict = [&](const std::string& user) {
    e.user_id = user;
    std::string wire;
    EncodeBusRecord(e, wire);
    Result<UsageEvent> got = parser_.ParseCanonical(wire);
    return got.ok() ? std::string("accepted") : got.status().message();
  };
  for (size_t at = 0; at < 19; ++at) {
    for (char bad : {'\x00', '\x01', '\x1f', '\x7f'}) {
      std::string user(19, 'u');
      user[at] = bad;
      EXPECT_EQ(verdict(user), "user_id must not contain control characters")
          << at << " " << int(bad);
    }
    for (char fine : {' ', '~', '!'}) {
      std::string user(19, 'u');
      user[at] = fine;
      EXPECT_EQ(verdict(user), "accepted") << at << " " << int(fine);
    }
  }
  EXPECT_EQ(verdict("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "accepted");
}

TEST_F(BusRecordTest, DamagedBinaryRecordsAreMalformed) {
  std::string wire;
  EncodeBusRecord(testing::FullEvent(), wire);
  for (size_t cut = 1; cut < wire.size(); ++cut) {
    Result<UsageEvent> got = parser_.ParseCanonical(wire.substr(0, cut));
    ASSERT_FALSE(got.ok()) << "cut at " << cut;
    EXPECT_EQ(got.status().message(), "malformed binary record: it ends inside a field")
        << "cut at " << cut;
  }
  EXPECT_EQ(parser_.ParseCanonical(wire + "x").status().message(),
            "malformed binary record: bytes after its last field");
  // Any single flipped bit: refused, or decoded to an event that passes the rules and
  // encodes back to a record that decodes to the same event (never read out of bounds:
  // the ASan build runs this too).
  size_t accepted = 0;
  for (size_t at = 1; at < wire.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = wire;
      flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
      Result<UsageEvent> got = parser_.ParseCanonical(flipped);
      if (!got.ok()) continue;
      ++accepted;
      std::string again;
      EncodeBusRecord(*got, again);
      Result<UsageEvent> back = parser_.ParseCanonical(again);
      ASSERT_TRUE(back.ok()) << at << ":" << bit << " " << back.status().ToString();
      EXPECT_EQ(*back, *got) << at << ":" << bit;
    }
  }
  EXPECT_GT(accepted, 0u) << "flips inside texts and counts still decode";
  // An event whose bits byte is at a known place: after the tag, 13 length bytes, the
  // texts "a" "r" "openai" "m" "m" "prod", the data mode and six one-byte counts.
  UsageEvent e = testing::TestEvent("a", "r", "m", 1, 1, *ParseRfc3339("2026-02-07T12:00:00Z"));
  e.endpoint_tag.clear();
  std::string plain;
  EncodeBusRecord(e, plain);
  size_t bits_at = 1 + 13 + (1 + 1 + 6 + 1 + 1 + 4) + 1 + 6;
  ASSERT_EQ(plain[bits_at], 0);
  plain[bits_at] = 0x20;
  EXPECT_EQ(parser_.ParseCanonical(plain).status().message(),
            "malformed binary record: unknown field bits");
}

}  // namespace
}  // namespace tokenmeter
