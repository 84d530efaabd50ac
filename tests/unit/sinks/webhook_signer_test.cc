// Standard Webhooks signing: the spec's published test vector, secret rotation, and the
// verifier's refusals (tampered body, wrong id, stale or future timestamp, bad secret).
#include "tokenmeter/sinks/webhook_signer.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

// The test vector published with the Standard Webhooks specification.
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr const char* kBody = "{\"test\": 2432232314}";
constexpr const char* kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(WebhookSignerTest, ThePublishedTestVectorSignsAndVerifies) {
  Result<std::string> key = DecodeWebhookSecret(kSecret);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 24u);
  EXPECT_EQ(SignWebhook(*key, kId, kTimestamp, kBody), kSignature);
  EXPECT_TRUE(VerifyWebhook({*key}, kId, "1614265330", kSignature, kBody, kTimestamp));
}

TEST(WebhookSignerTest, DuringRotationEachActiveSecretSigns) {
  std::string old_key = *DecodeWebhookSecret(kSecret);
  std::string new_key = *DecodeWebhookSecret("whsec_" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  std::string header = WebhookSignatureHeader({old_key, new_key}, kId, kTimestamp, kBody);
  EXPECT_EQ(header.rfind(std::string(kSignature) + " v1,", 0), 0u) << header;
  EXPECT_TRUE(VerifyWebhook({old_key}, kId, "1614265330", header, kBody, kTimestamp));
  EXPECT_TRUE(VerifyWebhook({new_key}, kId, "1614265330", header, kBody, kTimestamp));
}

TEST(WebhookSignerTest, TheVerifierRefusesWhatWasNotSigned) {
  std::string key = *DecodeWebhookSecret(kSecret);
  EXPECT_FALSE(VerifyWebhook({key}, kId, "1614265330", kSignature, "{\"test\": 2432232315}", kTimestamp));
  EXPECT_FALSE(VerifyWebhook({key}, "msg_other", "1614265330", kSignature, kBody, kTimestamp));
  EXPECT_FALSE(VerifyWebhook({key}, kId, "1614265330", kSignature, kBody, kTimestamp + 301));
  EXPECT_FALSE(VerifyWebhook({key}, kId, "1614265330", kSignature, kBody, kTimestamp - 301));
  EXPECT_TRUE(VerifyWebhook({key}, kId, "1614265330", kSignature, kBody, kTimestamp + 300));
  EXPECT_FALSE(VerifyWebhook({key}, kId, "16142x5330", kSignature, kBody, kTimestamp));
  EXPECT_FALSE(VerifyWebhook({key}, kId, "1614265330", "v1,AAAA", kBody, kTimestamp));
}

TEST(WebhookSignerTest, MalformedSecretsAreErrors) {
  EXPECT_FALSE(DecodeWebhookSecret("whsec_").ok());
  EXPECT_FALSE(DecodeWebhookSecret("whsec_not*base64!").ok());
  EXPECT_FALSE(DecodeWebhookSecret("whsec_c2hvcnQ=").ok()) << "5 bytes is too short";
  EXPECT_TRUE(DecodeWebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").ok()) << "prefix optional";
}

}  // namespace
}  // namespace tokenmeter
