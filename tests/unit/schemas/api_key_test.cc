// API keys: create, verify, and every way a presented key is refused.
#include "tokenmeter/auth/api_key.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(ApiKeyTest, CreatedKeyHasTheDocumentedShape) {
  Result<NewKey> k = CreateApiKey("live", "acme", Role::kIngest);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->key.substr(0, 8), "tm_live_");
  EXPECT_EQ(k->key.size(), 8u + 12 + 1 + 43 + 6);
  EXPECT_EQ(k->key.substr(8, 12), k->record.id);
  EXPECT_EQ(k->record.sha256.size(), 64u);
  EXPECT_EQ(k->record.sha256.find(k->key.substr(21, 20)), std::string::npos);
  EXPECT_EQ(DisplayKey(k->key), "tm_live_" + k->record.id + "..." + k->key.substr(k->key.size() - 4));
  EXPECT_NE(CreateApiKey("live", "acme", Role::kIngest)->key, k->key);
  EXPECT_FALSE(CreateApiKey("prod", "acme", Role::kIngest).ok());
}

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = *CreateApiKey("live", "acme", Role::kIngest);
    b_ = *CreateApiKey("test", "globex", Role::kMember);
    revoked_ = *CreateApiKey("live", "acme", Role::kIngest);
    revoked_.record.revoked = true;
    ring_ = std::make_unique<KeyRing>(*KeyRing::Build({a_.record, b_.record, revoked_.record}));
  }
  KeyRef Verify(const std::string& key, KeyRejection& why) { return ring_->Verify(key, why); }

  NewKey a_, b_, revoked_;
  std::unique_ptr<KeyRing> ring_;
};

TEST_F(KeyRingTest, ValidKeysResolveToTheirRecords) {
  KeyRejection why;
  KeyRef r = Verify(a_.key, why);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(why, KeyRejection::kNone);
  EXPECT_EQ(r->workspace, "acme");
  EXPECT_EQ(r->role, Role::kIngest);
  r = Verify(b_.key, why);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->workspace, "globex");
  EXPECT_EQ(r->role, Role::kMember);
}

TEST_F(KeyRingTest, RefusalsSayWhy) {
  KeyRejection why;
  EXPECT_EQ(Verify("", why), nullptr);
  EXPECT_EQ(why, KeyRejection::kMissing);
  EXPECT_EQ(Verify("not-a-key", why), nullptr);
  EXPECT_EQ(why, KeyRejection::kMalformed);
  EXPECT_EQ(Verify(a_.key.substr(0, a_.key.size() - 1), why), nullptr);
  EXPECT_EQ(why, KeyRejection::kMalformed);
  std::string typo = a_.key;
  typo[30] = typo[30] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Verify(typo, why), nullptr);
  EXPECT_EQ(why, KeyRejection::kChecksum);
  EXPECT_EQ(Verify(revoked_.key, why), nullptr);
  EXPECT_EQ(why, KeyRejection::kRevoked);
  NewKey stranger = *CreateApiKey("live", "acme", Role::kIngest);
  EXPECT_EQ(Verify(stranger.key, why), nullptr);
  EXPECT_EQ(why, KeyRejection::kUnknown);
}

TEST_F(KeyRingTest, RightIdWithWrongSecretIsRefused) {
  // A well-formed key whose id is configured but whose secret hashes differently.
  NewKey other = *CreateApiKey("live", "acme", Role::kIngest);
  KeyRecord swapped = other.record;
  swapped.sha256 = a_.record.sha256;
  KeyRing ring = *KeyRing::Build({swapped});
  KeyRejection why;
  EXPECT_EQ(ring.Verify(other.key, why), nullptr);
  EXPECT_EQ(why, KeyRejection::kUnknown);
}

TEST(KeyRingBuildTest, RejectsBadRecords) {
  NewKey k = *CreateApiKey("live", "acme", Role::kIngest);
  EXPECT_FALSE(KeyRing::Build({k.record, k.record}).ok());
  KeyRecord bad_hash = k.record;
  bad_hash.sha256 = "abc";
  EXPECT_FALSE(KeyRing::Build({bad_hash}).ok());
  KeyRecord bad_id = k.record;
  bad_id.id = "short";
  EXPECT_FALSE(KeyRing::Build({bad_id}).ok());
  KeyRecord no_ws = k.record;
  no_ws.workspace = "";
  EXPECT_FALSE(KeyRing::Build({no_ws}).ok());
}

}  // namespace
}  // namespace tokenmeter
