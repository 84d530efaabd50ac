#include "tokenmeter/sinks/webhook_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "tokenmeter/base/base64.h"

namespace tokenmeter {

Result<std::string> DecodeWebhookSecret(std::string_view secret) {
  if (secret.rfind("whsec_", 0) == 0) secret.remove_prefix(6);
  if (secret.empty() || secret.size() % 4 != 0) {
    return InvalidArgument("a webhook secret is whsec_ followed by base64");
  }
  std::string out(secret.size() / 4 * 3, '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(secret.data()),
                            static_cast<int>(secret.size()));
  if (len < 0) return InvalidArgument("a webhook secret is whsec_ followed by base64");
  // EVP_DecodeBlock counts padding as zero bytes: drop one per '='.
  size_t padding = secret.ends_with("==") ? 2 : secret.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(len) - padding);
  if (out.size() < 16) return InvalidArgument("a webhook secret key must be at least 16 bytes");
  return out;
}

std::string SignWebhook(std::string_view key, std::string_view id, int64_t timestamp_s,
                        std::string_view body) {
  std::string message;
  message.reserve(id.size() + body.size() + 24);
  message.append(id);
  message.push_back('.');
  message += std::to_string(timestamp_s);
  message.push_back('.');
  message.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  std::string signature = "v1,";
  AppendBase64(signature, std::string_view(reinterpret_cast<const char*>(mac), mac_len));
  return signature;
}

std::string WebhookSignatureHeader(const std::vector<std::string>& keys, std::string_view id,
                                   int64_t timestamp_s, std::string_view body) {
  std::string header;
  for (const std::string& key : keys) {
    if (!header.empty()) header.push_back(' ');
    header += SignWebhook(key, id, timestamp_s, body);
  }
  return header;
}

bool VerifyWebhook(const std::vector<std::string>& keys, std::string_view id,
                   std::string_view timestamp, std::string_view header, std::string_view body,
                   int64_t now_s, std::chrono::seconds tolerance) {
  int64_t ts = 0;
  auto [p, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || p != timestamp.data() + timestamp.size()) return false;
  if (ts < now_s - tolerance.count() || ts > now_s + tolerance.count()) return false;
  bool ok = false;
  for (const std::string& key : keys) {
    std::string want = SignWebhook(key, id, ts, body);
    size_t pos = 0;
    while (pos < header.size()) {
      size_t space = header.find(' ', pos);
      std::string_view candidate =
          header.substr(pos, space == std::string_view::npos ? std::string_view::npos : space - pos);
      // Compare every candidate in full: no early exit that times the match.
      if (candidate.size() == want.size() &&
          CRYPTO_memcmp(candidate.data(), want.data(), want.size()) == 0) {
        ok = true;
      }
      pos = space == std::string_view::npos ? header.size() : space + 1;
    }
  }
  return ok;
}

}  // namespace tokenmeter
