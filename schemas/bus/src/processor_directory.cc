#include "tokenmeter/bus/processor_directory.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>

namespace tokenmeter {
namespace {

// How far apart two processors' wall clocks may be for a claim read at start to count.
constexpr int64_t kClockSkewMs = 60000;

void WriteSet(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* name, const std::set<int>& s) {
  w.Key(name);
  w.StartArray();
  for (int p : s) w.Int(p);
  w.EndArray();
}

bool ReadSet(const rapidjson::Value& doc, const char* name, std::set<int>& out) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsArray()) return false;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsInt() || v.GetInt() < 0) return false;
    out.insert(v.GetInt());
  }
  return true;
}

}  // namespace

std::string EncodeProcessorClaim(const ProcessorClaim& claim) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("format");
  w.Int(1);
  w.Key("url");
  w.String(claim.url.data(), static_cast<rapidjson::SizeType>(claim.url.size()));
  WriteSet(w, "serving", claim.serving);
  WriteSet(w, "catchingUp", claim.catching_up);
  w.Key("atMs");
  w.Int64(claim.at_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<ProcessorClaim> DecodeProcessorClaim(std::string_view value) {
  rapidjson::Document doc;
  doc.Parse(value.data(), value.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgument("a processor claim is a JSON object");
  auto format = doc.FindMember("format");
  if (format == doc.MemberEnd() || !format->value.IsInt() || format->value.GetInt() != 1) {
    return InvalidArgument("a processor claim of another format than 1");
  }
  ProcessorClaim claim;
  auto url = doc.FindMember("url");
  auto at = doc.FindMember("atMs");
  if (url == doc.MemberEnd() || !url->value.IsString() || at == doc.MemberEnd() || !at->value.IsInt64() ||
      !ReadSet(doc, "serving", claim.serving) || !ReadSet(doc, "catchingUp", claim.catching_up)) {
    return InvalidArgument("a processor claim needs url, serving, catchingUp and atMs");
  }
  claim.url.assign(url->value.GetString(), url->value.GetStringLength());
  claim.at_ms = at->value.GetInt64();
  return claim;
}

void ProcessorDirectory::Apply(const std::string& key, std::string_view value,
                               std::chrono::steady_clock::time_point read_at) {
  std::lock_guard lock(mu_);
  if (value.empty()) {
    entries_.erase(key);
    return;
  }
  Result<ProcessorClaim> claim = DecodeProcessorClaim(value);
  if (!claim.ok()) return;
  entries_[key] = Entry{std::move(*claim), read_at};
}

ProcessorDirectory::Owner ProcessorDirectory::OwnerOf(int partition, std::chrono::steady_clock::time_point now,
                                                      int64_t now_ms) const {
  std::lock_guard lock(mu_);
  Owner owner;
  int serving = 0;
  for (const auto& [key, e] : entries_) {
    if (now - e.read_at > live_for_ || std::llabs(now_ms - e.claim.at_ms) > live_for_.count() + kClockSkewMs) continue;
    if (e.claim.serving.contains(partition)) {
      ++serving;
      owner = {Owner::Kind::kServing, e.claim.url};
    } else if (serving == 0 && e.claim.catching_up.contains(partition)) {
      owner = {Owner::Kind::kCatchingUp, e.claim.url};
    }
  }
  if (serving > 1) owner.kind = Owner::Kind::kDisputed;
  return owner;
}

}  // namespace tokenmeter
