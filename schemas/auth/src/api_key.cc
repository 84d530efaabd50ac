#include "tokenmeter/auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <chrono>
#include <mutex>

#include "tokenmeter/base/enum_names.h"
#include "tokenmeter/base/sha256.h"

namespace tokenmeter {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kIdLen = 12;
constexpr size_t kSecretLen = 43;
constexpr size_t kCrcLen = 6;

bool IsBase62(std::string_view s) {
  for (char c : s) {
    if (kBase62.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string Crc62(std::string_view text) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(text.data()),
                    static_cast<uInt>(text.size()));
  std::string out(kCrcLen, '0');
  for (size_t i = kCrcLen; i-- > 0;) {
    out[i] = kBase62[crc % 62];
    crc /= 62;
  }
  return out;
}

// Uniform random base62 text by rejection sampling (no modulo bias).
Result<std::string> RandomBase62(size_t n) {
  std::string out;
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof(buf)) != 1) return Internal("RAND_bytes failed");
    for (unsigned char b : buf) {
      if (b < 248 && out.size() < n) out.push_back(kBase62[b % 62]);
    }
  }
  return out;
}

std::optional<std::array<unsigned char, 32>> FromHex(std::string_view h) {
  if (h.size() != 64) return std::nullopt;
  std::array<unsigned char, 32> d;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(h[2 * i]), lo = nibble(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return d;
}

// Splits "tm_<env>_<id>_<secret+crc>"; returns the id, or "" if the shape is wrong.
std::string_view ParseShape(std::string_view key) {
  if (key.substr(0, 3) != "tm_") return {};
  size_t env_end = key.find('_', 3);
  if (env_end == std::string_view::npos) return {};
  std::string_view env = key.substr(3, env_end - 3);
  if (env != "live" && env != "test") return {};
  std::string_view id = key.substr(env_end + 1, kIdLen);
  if (id.size() != kIdLen || key.size() != env_end + 1 + kIdLen + 1 + kSecretLen + kCrcLen ||
      key[env_end + 1 + kIdLen] != '_') {
    return {};
  }
  std::string_view tail = key.substr(env_end + 2 + kIdLen);
  if (!IsBase62(id) || !IsBase62(tail)) return {};
  return id;
}

}  // namespace

namespace {

constexpr EnumNames<Role, 4> kRoles({"owner", "admin", "member", "ingest"});
constexpr EnumNames<KeyRejection, 6> kKeyRejections(
    {"none", "missing", "malformed", "checksum", "unknown", "revoked"});

}  // namespace

std::string_view RoleName(Role r) { return kRoles.Name(r); }
std::optional<Role> ParseRole(std::string_view s) { return kRoles.Parse(s); }
std::string_view KeyRejectionName(KeyRejection r) { return kKeyRejections.Name(r); }

Result<NewKey> CreateApiKey(std::string_view env, std::string_view workspace, Role role) {
  if (env != "live" && env != "test") return InvalidArgument("key env must be live or test");
  if (workspace.empty()) return InvalidArgument("workspace must not be empty");
  Result<std::string> id = RandomBase62(kIdLen);
  if (!id.ok()) return id.status();
  Result<std::string> secret = RandomBase62(kSecretLen);
  if (!secret.ok()) return secret.status();
  std::string body = "tm_" + std::string(env) + "_" + *id + "_" + *secret;
  NewKey k;
  k.key = body + Crc62(body);
  k.record.id = *id;
  k.record.sha256 = Sha256Hex(Sha256(k.key));
  k.record.workspace = std::string(workspace);
  k.record.role = role;
  k.record.env = std::string(env);
  return k;
}

Result<NewKey> RotateApiKey(const KeyRecord& key) {
  if (key.env != "live" && key.env != "test") return InvalidArgument("key " + key.id + " has no env to rotate in");
  Result<std::string> secret = RandomBase62(kSecretLen);
  if (!secret.ok()) return secret.status();
  std::string body = "tm_" + key.env + "_" + key.id + "_" + *secret;
  NewKey k;
  k.key = body + Crc62(body);
  k.record = key;
  k.record.sha256 = Sha256Hex(Sha256(k.key));
  return k;
}

std::string DisplayKey(std::string_view key) {
  std::string_view id = ParseShape(key);
  if (id.empty()) return "(malformed key)";
  size_t id_end = static_cast<size_t>(id.data() - key.data()) + id.size();
  return std::string(key.substr(0, id_end)) + "..." + std::string(key.substr(key.size() - 4));
}

KeyRing::KeyRing() : mu_(std::make_unique<std::shared_mutex>()), snapshot_(std::make_shared<Snapshot>()) {}
KeyRing::KeyRing(KeyRing&&) noexcept = default;
KeyRing::~KeyRing() = default;

Status CheckKeyRecord(const KeyRecord& r) {
  if (r.id.size() != kIdLen || !IsBase62(r.id)) {
    return InvalidArgument("key id \"" + r.id + "\" must be 12 base62 characters");
  }
  if (!FromHex(r.sha256)) return InvalidArgument("key " + r.id + ": sha256 must be 64 hex characters");
  if (r.workspace.empty()) return InvalidArgument("key " + r.id + ": workspace is required");
  if (!r.previous_sha256.empty() && !FromHex(r.previous_sha256)) {
    return InvalidArgument("key " + r.id + ": previous sha256 must be 64 hex characters");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const KeyRing::Snapshot>> KeyRing::MakeSnapshot(std::vector<KeyRecord> records,
                                                                        const Snapshot* previous_set) {
  auto snapshot = std::make_shared<Snapshot>();
  for (KeyRecord& r : records) {
    RETURN_IF_ERROR(CheckKeyRecord(r));
    auto digest = FromHex(r.sha256);
    std::optional<std::array<unsigned char, 32>> previous;
    if (!r.previous_sha256.empty()) previous = FromHex(r.previous_sha256);
    std::string id = r.id;
    // A key that stays keeps when it was last used.
    std::shared_ptr<std::atomic<int64_t>> last_used;
    if (previous_set != nullptr) {
      if (auto stays = previous_set->entries.find(id); stays != previous_set->entries.end()) {
        last_used = stays->second.last_used;
      }
    }
    if (!last_used) last_used = std::make_shared<std::atomic<int64_t>>(0);
    Entry entry{std::make_shared<const KeyRecord>(std::move(r)), *digest, previous, std::move(last_used)};
    if (!snapshot->entries.emplace(id, std::move(entry)).second) {
      return InvalidArgument("key id " + id + " is configured twice");
    }
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

Result<KeyRing> KeyRing::Build(std::vector<KeyRecord> records) {
  KeyRing ring;
  RETURN_IF_ERROR(ring.Replace(std::move(records)));
  return ring;
}

Status KeyRing::Replace(std::vector<KeyRecord> records) {
  // Replace runs on one thread (the settings follower's): the set it replaces is this one.
  auto snapshot = MakeSnapshot(std::move(records), Current().get());
  if (!snapshot.ok()) return snapshot.status();
  std::unique_lock lock(*mu_);
  snapshot_ = std::move(*snapshot);
  return Status::Ok();
}

int64_t KeyRing::LastUsedMs(const std::string& id) const {
  std::shared_ptr<const Snapshot> s = Current();
  auto it = s->entries.find(id);
  return it == s->entries.end() ? 0 : it->second.last_used->load(std::memory_order_relaxed);
}

std::shared_ptr<const KeyRing::Snapshot> KeyRing::Current() const {
  std::shared_lock lock(*mu_);
  return snapshot_;
}

size_t KeyRing::size() const { return Current()->entries.size(); }

KeyRef KeyRing::Find(const std::string& id) const {
  std::shared_ptr<const Snapshot> s = Current();
  auto it = s->entries.find(id);
  return it == s->entries.end() ? nullptr : it->second.record;
}

KeyRef KeyRing::Verify(std::string_view presented, KeyRejection& why) const {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return Verify(presented, why, std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

KeyRef KeyRing::Verify(std::string_view presented, KeyRejection& why, int64_t now_ms) const {
  if (presented.empty()) {
    why = KeyRejection::kMissing;
    return nullptr;
  }
  std::string_view id = ParseShape(presented);
  if (id.empty()) {
    why = KeyRejection::kMalformed;
    return nullptr;
  }
  std::string_view body = presented.substr(0, presented.size() - kCrcLen);
  if (Crc62(body) != presented.substr(presented.size() - kCrcLen)) {
    why = KeyRejection::kChecksum;
    return nullptr;
  }
  std::shared_ptr<const Snapshot> s = Current();
  auto it = s->entries.find(std::string(id));
  if (it == s->entries.end()) {
    why = KeyRejection::kUnknown;
    return nullptr;
  }
  const Entry& e = it->second;
  auto digest = Sha256(presented);
  const bool current = CRYPTO_memcmp(digest.data(), e.digest.data(), digest.size()) == 0;
  const bool previous = !current && e.previous_digest && now_ms < e.record->previous_until_ms &&
                        CRYPTO_memcmp(digest.data(), e.previous_digest->data(), digest.size()) == 0;
  if (!current && !previous) {
    why = KeyRejection::kUnknown;
    return nullptr;
  }
  if (e.record->revoked) {
    why = KeyRejection::kRevoked;
    return nullptr;
  }
  why = KeyRejection::kNone;
  // Written once a second at most: every request of a key reads the same cache line.
  if (e.last_used->load(std::memory_order_relaxed) / 1000 != now_ms / 1000) {
    e.last_used->store(now_ms, std::memory_order_relaxed);
  }
  return e.record;
}

}  // namespace tokenmeter
