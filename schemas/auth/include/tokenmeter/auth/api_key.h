// API keys: format, creation and verification.
//
//   tm_<env>_<key id: 12 base62>_<secret: 43 base62 (~256 bit)><CRC32 of the rest: 6 base62>
//
// The checksum rejects typos and garbage without a lookup; the key id finds the record;
// only SHA-256(whole key) is stored, compared in constant time. Keys are random, so a
// fast hash is enough. KeyRing is immutable after construction and shared across threads.
#ifndef TOKENMETER_AUTH_API_KEY_H_
#define TOKENMETER_AUTH_API_KEY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

enum class Role : uint8_t { kOwner, kAdmin, kMember, kIngest };
std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view s);

// One configured key. `sha256` is the lowercase hex SHA-256 of the whole key text.
struct KeyRecord {
  std::string id;         // the 12-char key id (public)
  std::string sha256;     // 64 hex chars
  std::string workspace;
  Role role = Role::kIngest;
  std::string project;      // default project for events sent with this key; may be empty
  std::string environment;  // default environment; may be empty (then "prod")
  bool revoked = false;
  // Per-key rate limit in events per second and burst; 0 = use the workspace's.
  double events_per_second = 0;
  double burst_events = 0;
  // Whose key it is (a person or a service): a cleanup with scope "mine" removes the rows
  // ingested by every key of the asking key's owner. Config: keys[].owner; default the
  // key's own id.
  std::string owner;
};

// A freshly created key: the secret text (shown once) and the record to configure.
struct NewKey {
  std::string key;
  KeyRecord record;
};

// Creates a key with a random id and secret (OpenSSL RAND_bytes). `env` is "live" or "test".
Result<NewKey> CreateApiKey(std::string_view env, std::string_view workspace, Role role);

// The display form of a key: "tm_live_<id>…" plus the last 4 characters; never the secret.
std::string DisplayKey(std::string_view key);

enum class KeyRejection : uint8_t { kNone, kMissing, kMalformed, kChecksum, kUnknown, kRevoked };
std::string_view KeyRejectionName(KeyRejection r);

class KeyRing {
 public:
  // Fails on a record with a malformed id or hash, or a repeated id.
  static Result<KeyRing> Build(std::vector<KeyRecord> records);

  // Returns the record for a presented key, or nullptr with the reason in `why`.
  const KeyRecord* Verify(std::string_view presented, KeyRejection& why) const;

  size_t size() const { return records_.size(); }
  // Calls f(record) for every configured key, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [id, entry] : records_) f(entry.record);
  }

 private:
  struct Entry {
    KeyRecord record;
    std::array<unsigned char, 32> digest;
  };
  std::unordered_map<std::string, Entry> records_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_AUTH_API_KEY_H_
