// The cleanup command record: what the edge writes the processor reads back whole, and
// anything else is refused rather than half read.
#include "tokenmeter/model/cleanup_command.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

CleanupCommand Mine() {
  CleanupCommand c;
  c.id = "cl_0123456789abcdef";
  c.workspace = "acme";
  c.mode = DataMode::kTest;
  c.scope = CleanupScope::kMine;
  c.requested_by = "KkoDYj7V8vR7";
  c.key_ids = {"HQD6lOQ9RQuD", "KkoDYj7V8vR7"};
  c.issued_ms = 1'765'000'000'123;
  return c;
}

TEST(CleanupCommandTest, RoundTripsAndIsToldApartFromEvents) {
  std::string bytes;
  EncodeCleanupCommand(Mine(), bytes);
  EXPECT_TRUE(IsCommandRecord(bytes));
  EXPECT_EQ(DecodeCleanupCommand(bytes), std::optional<CleanupCommand>(Mine()));
  CleanupCommand all = Mine();
  all.scope = CleanupScope::kWorkspace;
  all.mode = DataMode::kDemo;
  all.key_ids.clear();
  bytes.clear();
  EncodeCleanupCommand(all, bytes);
  EXPECT_EQ(DecodeCleanupCommand(bytes), std::optional<CleanupCommand>(all));
  EXPECT_FALSE(IsCommandRecord("\xC1 an event"));
  EXPECT_FALSE(IsCommandRecord("{\"v\":1}"));
  EXPECT_FALSE(IsCommandRecord(""));
}

TEST(CleanupCommandTest, AnythingElseIsRefused) {
  std::string good;
  EncodeCleanupCommand(Mine(), good);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_EQ(DecodeCleanupCommand(good.substr(0, cut)), std::nullopt) << "cut at " << cut;
  }
  EXPECT_EQ(DecodeCleanupCommand(good + "x"), std::nullopt) << "trailing bytes";
  std::string kind = good;
  kind[1] = 2;
  EXPECT_EQ(DecodeCleanupCommand(kind), std::nullopt) << "an unknown kind";
  CleanupCommand real = Mine();
  real.mode = DataMode::kReal;
  std::string bytes;
  EncodeCleanupCommand(real, bytes);
  EXPECT_EQ(DecodeCleanupCommand(bytes), std::nullopt) << "real rows are never removed";
  CleanupCommand keys_on_workspace = Mine();
  keys_on_workspace.scope = CleanupScope::kWorkspace;
  bytes.clear();
  EncodeCleanupCommand(keys_on_workspace, bytes);
  EXPECT_EQ(DecodeCleanupCommand(bytes), std::nullopt) << "the workspace scope names no keys";
}

TEST(CleanupCommandTest, IdsAreFreshAndShaped) {
  const std::string a = NewCleanupId(), b = NewCleanupId();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 19u);
  EXPECT_EQ(a.substr(0, 3), "cl_");
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 3), std::string::npos);
}

}  // namespace
}  // namespace tokenmeter
