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

TEST(KeyRingLiveTest, ARotatedKeysOldSecretOpensItUntilTheOverlapEnds) {
  NewKey original = *CreateApiKey("test", "acme", Role::kIngest);
  NewKey rotated = *RotateApiKey(original.record);
  EXPECT_EQ(rotated.record.id, original.record.id);
  EXPECT_EQ(rotated.key.substr(0, 21), original.key.substr(0, 21));  // tm_test_<id>_
  EXPECT_NE(rotated.key, original.key);
  rotated.record.previous_sha256 = original.record.sha256;
  rotated.record.previous_until_ms = 5000;
  KeyRing ring = *KeyRing::Build({rotated.record});
  KeyRejection why;
  EXPECT_NE(ring.Verify(rotated.key, why, 4999), nullptr);
  EXPECT_NE(ring.Verify(original.key, why, 4999), nullptr);
  EXPECT_EQ(ring.Verify(original.key, why, 5000), nullptr);
  EXPECT_EQ(why, KeyRejection::kUnknown);
  EXPECT_NE(ring.Verify(rotated.key, why, 5000), nullptr);
  // A key read from the config file has no env to rotate in.
  KeyRecord declared = original.record;
  declared.env.clear();
  EXPECT_FALSE(RotateApiKey(declared).ok());
}

TEST(KeyRingLiveTest, ReplaceSwapsTheWholeSetAndHeldRecordsStayValid) {
  NewKey a = *CreateApiKey("live", "acme", Role::kIngest);
  NewKey b = *CreateApiKey("live", "acme", Role::kMember);
  KeyRing ring = *KeyRing::Build({a.record});
  KeyRejection why;
  KeyRef held = ring.Verify(a.key, why);
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(ring.Replace({b.record}).ok());
  EXPECT_EQ(ring.Verify(a.key, why), nullptr);
  EXPECT_NE(ring.Verify(b.key, why), nullptr);
  EXPECT_EQ(held->workspace, "acme");  // still readable after the swap
  EXPECT_EQ(ring.size(), 1u);
  // A bad set changes nothing.
  KeyRecord bad = a.record;
  bad.sha256 = "zz";
  EXPECT_FALSE(ring.Replace({a.record, bad}).ok());
  EXPECT_NE(ring.Verify(b.key, why), nullptr);
  EXPECT_EQ(ring.Find(b.record.id)->role, Role::kMember);
  EXPECT_EQ(ring.Find(a.record.id), nullptr);
}

// When a key was last used: set by a successful Verify (to the second), kept across a
// Replace that keeps the key, never set by a refused one.
TEST(KeyRingLiveTest, EachKeyRemembersWhenItWasLastUsed) {
  NewKey a = *CreateApiKey("live", "acme", Role::kIngest);
  NewKey b = *CreateApiKey("live", "acme", Role::kMember);
  KeyRing ring = *KeyRing::Build({a.record, b.record});
  KeyRejection why;
  EXPECT_EQ(ring.LastUsedMs(a.record.id), 0);
  ASSERT_NE(ring.Verify(a.key, why, 5'000), nullptr);
  EXPECT_EQ(ring.LastUsedMs(a.record.id), 5'000);
  ASSERT_NE(ring.Verify(a.key, why, 5'900), nullptr);
  EXPECT_EQ(ring.LastUsedMs(a.record.id), 5'000) << "within the same second";
  ASSERT_NE(ring.Verify(a.key, why, 7'250), nullptr);
  EXPECT_EQ(ring.LastUsedMs(a.record.id), 7'250);
  std::string wrong = b.key;
  wrong[wrong.size() - 20] = wrong[wrong.size() - 20] == 'a' ? 'b' : 'a';
  EXPECT_EQ(ring.Verify(wrong, why, 9'000), nullptr);
  EXPECT_EQ(ring.LastUsedMs(b.record.id), 0) << "a refused key is not used";
  KeyRecord revoked = a.record;
  revoked.revoked = true;
  ASSERT_TRUE(ring.Replace({revoked, b.record}).ok());
  EXPECT_EQ(ring.LastUsedMs(a.record.id), 7'250) << "kept across a change of the set";
  EXPECT_EQ(ring.Verify(a.key, why, 10'000), nullptr);
  EXPECT_EQ(ring.LastUsedMs(a.record.id), 7'250);
  EXPECT_EQ(ring.LastUsedMs("nosuchkey123"), 0);
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
