// The golden contract files in tests/golden/ (also checked against schemas/json by a
// third-party JSON Schema validator in tests/e2e/schema_check.py): the C++ parser must
// agree with the schemas on every file, and the canonical encoding must be byte-stable.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::vector<fs::path> Files(const std::string& sub) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(TM_GOLDEN_DIR) / sub)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenContractTest : public ::testing::Test {
 protected:
  GoldenContractTest() : parser_(limits_, normalizer_) {
    ctx_.workspace = "acme";
    ctx_.received_at = *ParseRfc3339("2026-02-07T12:00:00Z");
  }
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_;
  IngestContext ctx_;
};

TEST_F(GoldenContractTest, ValidIngestFilesParseWithoutErrors) {
  auto files = Files("ingest/valid");
  ASSERT_GE(files.size(), 5u);
  for (const auto& f : files) {
    std::string body = Read(f);
    ParsedBody p = parser_.ParseIngest(body, ctx_);
    EXPECT_EQ(p.body_error, BodyError::kNone) << f;
    EXPECT_TRUE(p.errors.empty()) << f << ": " << (p.errors.empty() ? "" : p.errors[0].field + " " + p.errors[0].message);
    EXPECT_GE(p.events.size(), 1u) << f;
  }
}

TEST_F(GoldenContractTest, InvalidIngestFilesAreRejected) {
  auto files = Files("ingest/invalid");
  ASSERT_GE(files.size(), 6u);
  for (const auto& f : files) {
    std::string body = Read(f);
    ParsedBody p = parser_.ParseIngest(body, ctx_);
    EXPECT_TRUE(p.events.empty()) << f;
    EXPECT_FALSE(p.errors.empty()) << f;
  }
}

TEST_F(GoldenContractTest, CanonicalFilesDecodeAndReEncodeByteForByte) {
  auto files = Files("canonical");
  ASSERT_GE(files.size(), 2u);
  for (const auto& f : files) {
    std::string text = Read(f);
    Result<UsageEvent> e = parser_.ParseCanonical(text);
    ASSERT_TRUE(e.ok()) << f << ": " << e.status().ToString();
    std::string again;
    EncodeCanonical(*e, again);
    EXPECT_EQ(again, text) << f;
  }
}

}  // namespace
}  // namespace tokenmeter
