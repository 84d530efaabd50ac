// API keys: format, creation and verification.
//
//   tm_<env>_<key id: 12 base62>_<secret: 43 base62 (~256 bit)><CRC32 of the rest: 6 base62>
//
// The checksum rejects typos and garbage without a lookup; the key id finds the record;
// only SHA-256(whole key) is stored, compared in constant time. Keys are random, so a
// fast hash is enough. A KeyRing is shared across threads; Replace() swaps its whole set
// at once (settings applied live), and a record a caller holds stays valid after that.
#ifndef TOKENMETER_AUTH_API_KEY_H_
#define TOKENMETER_AUTH_API_KEY_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
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
  // Set for keys made through the admin API (none of them are read from the config file).
  std::string name;        // a label for people; may be empty
  std::string env;         // "live" or "test": the key text's env, kept for a rotation
  int64_t created_ms = 0;  // when it was created, ms since the epoch
  // A rotated key's previous secret still opens it until `previous_until_ms` (the
  // rotation's overlap); empty when there is none.
  std::string previous_sha256;
  int64_t previous_until_ms = 0;
  // Declared in the config file (read-only through the admin API).
  bool from_config = false;
};
using KeyRef = std::shared_ptr<const KeyRecord>;

// A freshly created key: the secret text (shown once) and the record to configure.
struct NewKey {
  std::string key;
  KeyRecord record;
};

// Creates a key with a random id and secret (OpenSSL RAND_bytes). `env` is "live" or "test".
Result<NewKey> CreateApiKey(std::string_view env, std::string_view workspace, Role role);
// A new secret for an existing key: the same id (and record), a new key text and sha256.
Result<NewKey> RotateApiKey(const KeyRecord& key);

// The display form of a key: "tm_live_<id>…" plus the last 4 characters; never the secret.
std::string DisplayKey(std::string_view key);

enum class KeyRejection : uint8_t { kNone, kMissing, kMalformed, kChecksum, kUnknown, kRevoked };
std::string_view KeyRejectionName(KeyRejection r);

// A record the key ring takes: a 12-character base62 id, a workspace, its SHA-256 (and any
// previous one) as 64 hex characters.
Status CheckKeyRecord(const KeyRecord& r);

class KeyRing {
 public:
  // Fails on a record with a malformed id or hash, or a repeated id.
  static Result<KeyRing> Build(std::vector<KeyRecord> records);
  KeyRing();
  KeyRing(KeyRing&&) noexcept;
  ~KeyRing();

  // Replaces every record at once, checked as Build checks them (on failure nothing
  // changes). Readers see the old set or the new one, never a mix.
  Status Replace(std::vector<KeyRecord> records);

  // Returns the record for a presented key, or nullptr with the reason in `why`. A
  // rotated key's previous secret opens it until previous_until_ms (`now_ms`).
  KeyRef Verify(std::string_view presented, KeyRejection& why, int64_t now_ms) const;
  KeyRef Verify(std::string_view presented, KeyRejection& why) const;
  // The record with this id, or nullptr.
  KeyRef Find(const std::string& id) const;
  // When this ring last opened the key (Verify's now_ms, to the second), 0 if never. A
  // key's time survives Replace; it is this process's alone (nothing stores or shares it).
  int64_t LastUsedMs(const std::string& id) const;

  size_t size() const;
  // Calls f(record) for every key of one snapshot, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    std::shared_ptr<const Snapshot> s = Current();
    for (const auto& [id, entry] : s->entries) f(*entry.record);
  }

 private:
  struct Entry {
    KeyRef record;
    std::array<unsigned char, 32> digest;
    std::optional<std::array<unsigned char, 32>> previous_digest;
    std::shared_ptr<std::atomic<int64_t>> last_used;  // ms; shared with the next snapshot
  };
  struct Snapshot {
    std::unordered_map<std::string, Entry> entries;
  };
  static Result<std::shared_ptr<const Snapshot>> MakeSnapshot(std::vector<KeyRecord> records,
                                                              const Snapshot* previous_set);
  std::shared_ptr<const Snapshot> Current() const;

  std::unique_ptr<std::shared_mutex> mu_;  // guards snapshot_ (the pointer, not what it holds)
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_AUTH_API_KEY_H_
