#include "tokenmeter/model/event_parser.h"

#include <rapidjson/reader.h>

#include <array>
#include <charconv>
#include <cstring>
#include <span>

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

// ---- Stage 1: SAX into raw members ---------------------------------------------------
// Raw members keep the exact JSON text of numbers (no double on the way) and views into
// the in-situ parsed body, so validation sees what the client sent.

enum class RawType : uint8_t { kNull, kBool, kNumber, kString, kNested };

struct RawMember {
  std::string_view key;
  RawType type;
  std::string_view text;
};

// An event's members: `count` of them from `begin` in the list that holds them.
struct RawEvent {
  uint32_t begin = 0;
  uint32_t count = 0;
  const char* structural_error = nullptr;  // the event as a whole is unusable
};

enum class Frame : uint8_t { kTop, kEventsArray, kEvent, kSkip };

// What stage 1 fills, kept per thread between bodies with its capacity: a 100-event batch
// would otherwise allocate each event's member list, grown by doubling (~6 allocations an
// event), and the event list itself.
struct RawLists {
  std::vector<RawMember> members;  // the batch's events' members, event after event
  std::vector<RawMember> top;      // the body object's own members
  std::vector<RawEvent> events;
  std::vector<Frame> frames;

  void Clear() {
    // A list grown by an outsized body is not kept (bodies are bounded, but the thread lives long).
    constexpr size_t kKeptMembers = 16384;
    if (members.capacity() > kKeptMembers) std::vector<RawMember>().swap(members);
    members.clear();
    top.clear();
    events.clear();
    frames.clear();
  }
};

RawLists& ThreadRawLists() {
  thread_local RawLists lists;
  lists.Clear();
  return lists;
}

class RawHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RawHandler> {
 public:
  RawHandler(const IngestLimits& limits, bool allow_batch, RawLists& lists)
      : members(lists.members),
        top_members(lists.top),
        events(lists.events),
        limits_(limits),
        allow_batch_(allow_batch),
        frames_(lists.frames) {}

  bool Null() { return Scalar(RawType::kNull, "null"); }
  bool Bool(bool b) { return Scalar(RawType::kBool, b ? "true" : "false"); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return Scalar(RawType::kNumber, std::string_view(s, n));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Scalar(RawType::kString, std::string_view(s, n));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    key_ = std::string_view(s, n);
    return true;
  }
  bool StartObject() { return Open(/*is_array=*/false); }
  bool StartArray() { return Open(/*is_array=*/true); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  BodyError error = BodyError::kNone;
  std::string error_message;
  bool is_batch = false;
  RawEvent top;                         // a single-event body, in top_members
  std::vector<RawMember>& members;      // the elements of "events", in order
  std::vector<RawMember>& top_members;  // the body object's own members
  std::vector<RawEvent>& events;        // elements of "events", in members

  // The members of `top` or of an element of `events`.
  std::span<const RawMember> MembersOf(const RawEvent& ev) const {
    const std::vector<RawMember>& list = &ev == &top ? top_members : members;
    return std::span<const RawMember>(list).subspan(ev.begin, ev.count);
  }

 private:
  bool Fail(BodyError e, std::string message) {
    error = e;
    error_message = std::move(message);
    return false;
  }

  // A member of the current event: the top object's, or the last of "events" (its members
  // are the last in `members`: an event's members all come before the next event opens).
  void Record(RawType type, std::string_view text) {
    const bool at_top = frames_.back() == Frame::kTop;
    RawEvent& ev = at_top ? top : events.back();
    if (ev.structural_error) return;
    if (ev.count >= limits_.max_fields_per_event) {
      ev.structural_error = "event has too many fields";
      return;
    }
    (at_top ? top_members : members).push_back({key_, type, text});
    ++ev.count;
  }

  bool Scalar(RawType type, std::string_view text) {
    if (frames_.empty()) return Fail(BodyError::kNotAnObject, "body must be a JSON object");
    switch (frames_.back()) {
      case Frame::kTop:
        if (allow_batch_ && key_ == "events") {
          return Fail(BodyError::kMalformed, "\"events\" must be an array of event objects");
        }
        [[fallthrough]];
      case Frame::kEvent:
        Record(type, text);
        return true;
      case Frame::kEventsArray:
        if (!NewEvent()) return false;
        events.back().structural_error = "event must be a JSON object";
        return true;
      case Frame::kSkip:
        return true;
    }
    return true;
  }

  bool NewEvent() {
    if (events.size() >= limits_.max_events_per_request) {
      return Fail(BodyError::kTooManyEvents,
                  "a request holds at most " + std::to_string(limits_.max_events_per_request) +
                      " events");
    }
    events.push_back({static_cast<uint32_t>(members.size()), 0, nullptr});
    return true;
  }

  bool Open(bool is_array) {
    if (static_cast<int>(frames_.size()) >= limits_.max_json_depth) {
      return Fail(BodyError::kTooDeep, "JSON nesting is deeper than " +
                                           std::to_string(limits_.max_json_depth) + " levels");
    }
    if (frames_.empty()) {
      if (is_array) return Fail(BodyError::kNotAnObject, "body must be a JSON object");
      frames_.push_back(Frame::kTop);
      return true;
    }
    switch (frames_.back()) {
      case Frame::kTop:
        if (allow_batch_ && key_ == "events") {
          if (!is_array || is_batch) {
            return Fail(BodyError::kMalformed,
                        is_batch ? "duplicate key \"events\""
                                 : "\"events\" must be an array of event objects");
          }
          is_batch = true;
          frames_.push_back(Frame::kEventsArray);
          return true;
        }
        [[fallthrough]];
      case Frame::kEvent:
        Record(RawType::kNested, {});
        frames_.push_back(Frame::kSkip);
        return true;
      case Frame::kEventsArray:
        if (!NewEvent()) return false;
        if (is_array) events.back().structural_error = "event must be a JSON object";
        frames_.push_back(is_array ? Frame::kSkip : Frame::kEvent);
        return true;
      case Frame::kSkip:
        frames_.push_back(Frame::kSkip);
        return true;
    }
    return true;
  }

  bool Close() {
    frames_.pop_back();
    return true;
  }

  const IngestLimits& limits_;
  bool allow_batch_;
  std::vector<Frame>& frames_;
  std::string_view key_;
};

// ---- Stage 2: the field table ---------------------------------------------------------

enum class Kind : uint8_t {
  kRequestId, kText, kProvider, kModel, kDataMode, kTokens, kLatency, kStatus, kCostUsd,
  kTimestamp, kWarnings, kFlag, kSchemaVersion
};

enum F : uint8_t {
  kFRequestId, kFProvider, kFModel, kFEndpointTag, kFPromptVersion, kFProject, kFEnvironment,
  kFDataMode, kFUserId, kFTenantId, kFInput, kFOutput, kFCached, kFCacheWrite, kFCacheWrite1h,
  kFReasoning, kFTotal, kFLatency, kFStatus, kFCost, kFOccurredAt,
  // Canonical-only fields.
  kFWorkspace, kFModelRaw, kFProjectRaw, kFReceivedAt, kFApiKeyId, kFWarnings,
  kFOccurredAtDefaulted, kFVersion,
  kFieldCount
};

struct FieldSpec {
  const char* canonical;
  const char* opsmeter;  // nullptr: not in that dialect
  const char* costlynx;
  Kind kind;
  bool required_ingest;
  bool required_canonical;
};

constexpr std::array<FieldSpec, kFieldCount> kFields = {{
    {"request_id", "externalRequestId", "requestId", Kind::kRequestId, true, true},
    {"provider", "provider", "provider", Kind::kProvider, true, true},
    {"model", "model", "model", Kind::kModel, true, true},
    {"endpoint_tag", "endpointTag", "feature", Kind::kText, false, false},
    {"prompt_version", "promptVersion", nullptr, Kind::kText, false, false},
    {"project", nullptr, "project", Kind::kText, false, false},
    {"environment", "environment", "environment", Kind::kText, false, true},
    {"data_mode", "dataMode", nullptr, Kind::kDataMode, false, true},
    {"user_id", "userId", nullptr, Kind::kText, false, false},
    {"tenant_id", "tenantId", nullptr, Kind::kText, false, false},
    {"input_tokens", "inputTokens", "inputTokens", Kind::kTokens, false, false},
    {"output_tokens", "outputTokens", "outputTokens", Kind::kTokens, false, false},
    {"cached_tokens", "cachedTokens", "cachedTokens", Kind::kTokens, false, false},
    {"cache_write_tokens", "cacheWriteTokens", "cacheWriteTokens", Kind::kTokens, false, false},
    {"cache_write_1h_tokens", "cacheWrite1hTokens", "cacheWrite1hTokens", Kind::kTokens, false,
     false},
    {"reasoning_tokens", "reasoningTokens", "reasoningTokens", Kind::kTokens, false, false},
    {"total_tokens", "totalTokens", nullptr, Kind::kTokens, false, false},
    {"latency_ms", "latencyMs", nullptr, Kind::kLatency, false, false},
    {"status", "status", nullptr, Kind::kStatus, false, false},
    {"estimated_cost_usd", nullptr, "estimatedCostUsd", Kind::kCostUsd, false, false},
    {"occurred_at", "timestamp", "timestamp", Kind::kTimestamp, false, true},
    {"workspace", nullptr, nullptr, Kind::kText, false, true},
    {"model_raw", nullptr, nullptr, Kind::kText, false, false},
    {"project_raw", nullptr, nullptr, Kind::kText, false, false},
    {"received_at", nullptr, nullptr, Kind::kTimestamp, false, true},
    {"api_key_id", nullptr, nullptr, Kind::kText, false, false},
    {"warnings", nullptr, nullptr, Kind::kWarnings, false, false},
    {"occurred_at_defaulted", nullptr, nullptr, Kind::kFlag, false, false},
    {"v", nullptr, nullptr, Kind::kSchemaVersion, false, true},
}};

struct NameRef {
  uint8_t field;
  uint8_t variant;  // 0 = first name, 1 = the other dialect's name
};

// Name lookup for one dialect: an open-addressed table with a cheap hash of the length
// and three bytes (a lookup per member of every event; std::hash over the whole name was
// ~2k instructions an event). Built once; read-only afterwards.
class NameTable {
 public:
  explicit NameTable(Dialect d) {
    for (uint8_t f = 0; f < kFieldCount; ++f) {
      const FieldSpec& s = kFields[f];
      if (d == Dialect::kCanonical) {
        Add(s.canonical, NameRef{f, 0});
        continue;
      }
      if (s.opsmeter) Add(s.opsmeter, NameRef{f, 0});
      if (s.costlynx && (!s.opsmeter || std::strcmp(s.opsmeter, s.costlynx) != 0)) {
        Add(s.costlynx, NameRef{f, static_cast<uint8_t>(s.opsmeter ? 1 : 0)});
      }
    }
  }
  const NameRef* Find(std::string_view name) const {
    if (name.empty()) return nullptr;
    for (size_t i = Slot(name);; i = (i + 1) % kSlots) {
      const Entry& e = slots_[i];
      if (e.name.empty()) return nullptr;
      if (e.name == name) return &e.ref;
    }
  }

 private:
  // More than twice the names of a dialect, so probes stay short and an empty slot ends
  // every miss.
  static constexpr size_t kSlots = 128;
  static_assert(kSlots > 2 * 2 * kFieldCount);
  struct Entry {
    std::string_view name;
    NameRef ref{};
  };
  static size_t Slot(std::string_view s) {
    auto b = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(s[i])); };
    return (s.size() * 131 + b(0) * 31 + b(s.size() / 2) * 7 + b(s.size() - 1)) % kSlots;
  }
  void Add(std::string_view name, NameRef ref) {
    size_t i = Slot(name);
    while (!slots_[i].name.empty()) {
      if (slots_[i].name == name) return;  // the first spelling wins, as before
      i = (i + 1) % kSlots;
    }
    slots_[i] = {name, ref};
  }
  std::array<Entry, kSlots> slots_{};
};

const NameTable& Names(Dialect d) {
  static const NameTable ingest(Dialect::kIngest);
  static const NameTable canonical(Dialect::kCanonical);
  return d == Dialect::kIngest ? ingest : canonical;
}

// The name a missing field is reported under, and the names listed in its message.
std::string MissingName(const FieldSpec& s, Dialect d) {
  if (d == Dialect::kCanonical) return s.canonical;
  return s.opsmeter ? s.opsmeter : s.costlynx;
}

std::string MissingMessage(const FieldSpec& s, Dialect d) {
  if (d == Dialect::kCanonical || !s.opsmeter || !s.costlynx ||
      std::strcmp(s.opsmeter, s.costlynx) == 0) {
    return "is required";
  }
  return std::string("is required (") + s.opsmeter + " or " + s.costlynx + ")";
}

// Whether `s` holds a byte below 0x20 or 0x7f; 8 bytes a step (every text field of every
// event passes here).
bool HasControlChar(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    uint64_t below_0x20 = (w - 0x20 * kOnes) & ~w & kHigh;  // some byte < 0x20
    uint64_t del = w ^ (0x7f * kOnes);
    uint64_t is_del = (del - kOnes) & ~del & kHigh;  // some byte == 0x7f
    if (below_0x20 | is_del) return true;
  }
  for (; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Sets the warning when total_tokens is given and is not input + output (both forms).
void MarkTotalTokensMismatch(UsageEvent& e) {
  if (e.total_tokens && *e.total_tokens != e.input_tokens + e.output_tokens) {
    e.warnings |= kWarnTotalTokensMismatch;
  }
}

// The rules for a text field and for the request id, shared by the JSON form's validator
// and the binary record's checks: "" when `s` passes, else what is wrong with it.
std::string TextProblem(std::string_view s, size_t max_bytes) {
  if (s.size() > max_bytes) return "must be at most " + std::to_string(max_bytes) + " bytes";
  if (HasControlChar(s)) return "must not contain control characters";
  return "";
}

std::string RequestIdProblem(std::string_view s, size_t max_bytes) {
  if (s.empty()) return "must not be empty";
  if (s.size() > max_bytes) return "must be at most " + std::to_string(max_bytes) + " bytes";
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return "must contain only printable ASCII characters";
  }
  return "";
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// Validates one raw event; appends errors; fills `out` and returns true when valid.
class EventValidator {
 public:
  EventValidator(const IngestLimits& limits, const Normalizer& normalizer, Dialect dialect,
                 const IngestContext* ctx)
      : limits_(limits), normalizer_(normalizer), dialect_(dialect), ctx_(ctx) {}

  bool Validate(const RawEvent& raw, std::span<const RawMember> members, size_t index,
                UsageEvent& out, std::vector<FieldError>& errors) {
    index_ = index;
    errors_ = &errors;
    size_t errors_before = errors.size();
    if (raw.structural_error) {
      AddError("", raw.structural_error);
      return false;
    }
    std::array<std::array<const RawMember*, 2>, kFieldCount> slots{};
    std::vector<std::string_view> unknown;
    const NameTable& names = Names(dialect_);
    for (const RawMember& m : members) {
      const NameRef* ref = names.Find(m.key);
      if (ref == nullptr) {
        for (std::string_view u : unknown) {
          if (u == m.key) AddError(std::string(m.key), "duplicate key");
        }
        unknown.push_back(m.key);
        continue;
      }
      auto& slot = slots[ref->field][ref->variant];
      if (slot != nullptr) {
        AddError(std::string(m.key), "duplicate key");
        continue;
      }
      slot = &m;
    }

    std::array<const RawMember*, kFieldCount> value{};
    for (size_t f = 0; f < kFieldCount; ++f) {
      const RawMember* a = slots[f][0];
      const RawMember* b = slots[f][1];
      if (a && a->type == RawType::kNull) a = nullptr;
      if (b && b->type == RawType::kNull) b = nullptr;
      if (a && b && (a->type != b->type || a->text != b->text)) {
        AddError(std::string(b->key), "conflicts with " + std::string(a->key));
        continue;
      }
      value[f] = a ? a : b;
      bool required = dialect_ == Dialect::kIngest ? kFields[f].required_ingest
                                                   : kFields[f].required_canonical;
      if (!value[f] && required) {
        AddError(MissingName(kFields[f], dialect_), MissingMessage(kFields[f], dialect_));
      }
    }

    Fill(value, out);
    return errors.size() == errors_before;
  }

 private:
  void AddError(std::string field, std::string message) {
    errors_->push_back({index_, std::move(field), std::move(message)});
  }

  bool Text(const RawMember* m, std::string& out, size_t max_bytes) {
    if (!TextView(m, max_bytes)) return false;
    if (m) out.assign(m->text);
    return true;
  }

  // Checks what Text would copy, without copying it.
  bool TextView(const RawMember* m, size_t max_bytes) {
    if (!m) return true;
    if (m->type != RawType::kString) {
      AddError(std::string(m->key), "must be a string");
      return false;
    }
    if (std::string problem = TextProblem(m->text, max_bytes); !problem.empty()) {
      AddError(std::string(m->key), std::move(problem));
      return false;
    }
    return true;
  }

  bool RequestId(const RawMember* m, std::string& out) {
    if (!m) return false;
    if (m->type != RawType::kString) {
      AddError(std::string(m->key), "must be a string");
      return false;
    }
    if (std::string problem = RequestIdProblem(m->text, limits_.max_request_id_bytes);
        !problem.empty()) {
      AddError(std::string(m->key), std::move(problem));
      return false;
    }
    out.assign(m->text);
    return true;
  }

  std::optional<uint64_t> Count(const RawMember* m, uint64_t max) {
    if (!m) return std::nullopt;
    std::optional<uint64_t> v;
    if (m->type == RawType::kNumber) v = ParseUint(m->text);
    if (!v) {
      AddError(std::string(m->key), "must be a non-negative integer");
      return std::nullopt;
    }
    if (*v > max) {
      AddError(std::string(m->key), "must be at most " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  template <typename E>
  std::optional<E> Enum(const RawMember* m, std::optional<E> (*parse)(std::string_view),
                        const char* allowed) {
    if (!m) return std::nullopt;
    std::optional<E> v;
    if (m->type == RawType::kString) {
      std::string lower(m->text);
      for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      v = parse(lower);
    }
    if (!v) AddError(std::string(m->key), std::string("must be one of ") + allowed);
    return v;
  }

  std::optional<TimePoint> Timestamp(const RawMember* m) {
    if (!m) return std::nullopt;
    std::optional<TimePoint> t;
    if (m->type == RawType::kString) t = ParseRfc3339(m->text);
    if (!t) AddError(std::string(m->key), "must be an RFC 3339 timestamp");
    return t;
  }

  void Fill(const std::array<const RawMember*, kFieldCount>& v, UsageEvent& out) {
    const size_t max_text = limits_.max_string_bytes;
    RequestId(v[kFRequestId], out.request_id);
    if (TextView(v[kFProvider], 64) && v[kFProvider]) {
      normalizer_.Provider(v[kFProvider]->text, out.provider);
      if (out.provider.empty()) AddError(std::string(v[kFProvider]->key), "must not be empty");
    }
    if (Text(v[kFModel], out.model_raw, max_text) && v[kFModel]) {
      normalizer_.Model(out.provider, out.model_raw, out.model);
      if (out.model.empty()) AddError(std::string(v[kFModel]->key), "must not be empty");
    }
    Text(v[kFEndpointTag], out.endpoint_tag, max_text);
    Text(v[kFPromptVersion], out.prompt_version, max_text);
    Text(v[kFEnvironment], out.environment, max_text);
    Text(v[kFUserId], out.user_id, max_text);
    Text(v[kFTenantId], out.tenant_id, max_text);
    if (auto m = Enum<DataMode>(v[kFDataMode], ParseDataMode, "real, test, demo")) {
      out.data_mode = *m;
    }
    out.input_tokens = Count(v[kFInput], limits_.max_tokens).value_or(0);
    out.output_tokens = Count(v[kFOutput], limits_.max_tokens).value_or(0);
    out.cached_tokens = Count(v[kFCached], limits_.max_tokens).value_or(0);
    out.cache_write_tokens = Count(v[kFCacheWrite], limits_.max_tokens).value_or(0);
    out.cache_write_1h_tokens = Count(v[kFCacheWrite1h], limits_.max_tokens).value_or(0);
    out.reasoning_tokens = Count(v[kFReasoning], limits_.max_tokens).value_or(0);
    out.total_tokens = Count(v[kFTotal], limits_.max_tokens);
    if (auto l = Count(v[kFLatency], limits_.max_latency_ms)) {
      out.latency_ms = static_cast<uint32_t>(*l);
    }
    out.status = Enum<CallStatus>(v[kFStatus], ParseCallStatus,
                                  "success, error, timeout, cancelled");
    if (const RawMember* m = v[kFCost]) {
      if (m->type == RawType::kNumber || m->type == RawType::kString) {
        out.estimated_cost = ParseDecimalUsd(m->text, limits_.max_estimated_cost_usd);
      }
      if (!out.estimated_cost) {
        AddError(std::string(m->key), "must be a non-negative decimal amount of USD, at most " +
                                          std::to_string(limits_.max_estimated_cost_usd));
      }
    }
    std::optional<TimePoint> occurred = Timestamp(v[kFOccurredAt]);
    MarkTotalTokensMismatch(out);
    if (dialect_ == Dialect::kIngest) {
      FillFromContext(v, occurred, out);
    } else {
      FillCanonical(v, occurred, out);
    }
  }

  void FillFromContext(const std::array<const RawMember*, kFieldCount>& v,
                       std::optional<TimePoint> occurred, UsageEvent& out) {
    const IngestContext& ctx = *ctx_;
    out.workspace.assign(ctx.workspace);
    out.api_key_id.assign(ctx.api_key_id);
    out.received_at = ctx.received_at;
    if (out.environment.empty()) {
      out.environment.assign(ctx.default_environment.empty() ? std::string_view("prod")
                                                             : ctx.default_environment);
    }
    std::string& project = out.project;  // written in place (its buffer may be reused)
    Text(v[kFProject], project, limits_.max_string_bytes);
    if (project.empty()) project.assign(ctx.default_project);
    if (!project.empty() && ctx.projects && !ctx.projects->empty() &&
        !ctx.projects->contains(project)) {
      if (ctx.strict_projects) {
        AddError(v[kFProject] ? std::string(v[kFProject]->key) : "project",
                 "unknown project \"" + project + "\"");
      } else {
        out.project_raw.swap(project);  // left empty: the slug is unattributed
        out.warnings |= kWarnUnknownProject;
      }
    }
    out.occurred_at = occurred.value_or(ctx.received_at);
    out.occurred_at_defaulted = !occurred;
    if (occurred) {
      const RawMember* m = v[kFOccurredAt];
      if (*occurred > ctx.received_at + limits_.max_future_skew) {
        AddError(std::string(m->key), "is more than " +
                                          std::to_string(limits_.max_future_skew.count()) +
                                          " s ahead of the receive time");
      } else if (*occurred < ctx.received_at - limits_.max_past_skew) {
        AddError(std::string(m->key), "is more than " +
                                          std::to_string(limits_.max_past_skew.count()) +
                                          " s behind the receive time");
      }
    }
  }

  void FillCanonical(const std::array<const RawMember*, kFieldCount>& v,
                     std::optional<TimePoint> occurred, UsageEvent& out) {
    const size_t max_text = limits_.max_string_bytes;
    Text(v[kFWorkspace], out.workspace, max_text);
    if (v[kFWorkspace] && out.workspace.empty()) AddError("workspace", "must not be empty");
    Text(v[kFProject], out.project, max_text);
    Text(v[kFProjectRaw], out.project_raw, max_text);
    Text(v[kFApiKeyId], out.api_key_id, max_text);
    if (v[kFModelRaw]) {
      Text(v[kFModelRaw], out.model_raw, max_text);
    }
    if (occurred) out.occurred_at = *occurred;
    if (auto r = Timestamp(v[kFReceivedAt])) out.received_at = *r;
    if (const RawMember* m = v[kFOccurredAtDefaulted]) {
      if (m->type != RawType::kBool) {
        AddError("occurred_at_defaulted", "must be true or false");
      } else {
        out.occurred_at_defaulted = m->text == "true";
        if (out.occurred_at_defaulted && out.occurred_at != out.received_at) {
          AddError("occurred_at_defaulted", "is true, so occurred_at must equal received_at");
        }
      }
    }
    if (const RawMember* m = v[kFVersion]) {
      if (m->type != RawType::kNumber || m->text != "1") {
        AddError("v", "unsupported schema version (this build reads 1)");
      }
    }
    if (const RawMember* m = v[kFWarnings]) {
      std::string list;
      if (Text(m, list, max_text)) {
        size_t pos = 0;
        while (pos < list.size()) {
          size_t comma = list.find(',', pos);
          std::string_view item = std::string_view(list).substr(
              pos, comma == std::string::npos ? std::string::npos : comma - pos);
          if (item == "total_tokens_mismatch") out.warnings |= kWarnTotalTokensMismatch;
          if (item == "unknown_project") out.warnings |= kWarnUnknownProject;
          pos = comma == std::string::npos ? list.size() : comma + 1;
        }
      }
    }
  }

  const IngestLimits& limits_;
  const Normalizer& normalizer_;
  Dialect dialect_;
  const IngestContext* ctx_;
  size_t index_ = 0;
  std::vector<FieldError>* errors_ = nullptr;
};

// The recursive reader (not kParseIterativeFlag, which costs a state-machine step per
// token): its recursion is bounded because RawHandler refuses to open a level past
// ingest.max_json_depth (at most 64), which stops the parse.
constexpr unsigned kParseFlags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;

// Whether every byte is below 0x80, 8 at a time. Pure ASCII is valid UTF-8, so such a
// body is parsed without RapidJSON's per-character encoding check (most of its string
// scanning cost); any other body gets the check.
bool IsAscii(std::string_view s) {
  uint64_t any = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    any |= w;
  }
  for (; i < s.size(); ++i) any |= static_cast<unsigned char>(s[i]);
  return (any & 0x8080808080808080ull) == 0;
}

// Runs stage 1. Returns false with `error`/`message` set when the body is rejected whole.
bool ParseRaw(std::string& body, RawHandler& handler) {
  if (body.find('\0') != std::string::npos) {
    handler.error = BodyError::kMalformed;
    handler.error_message = "body contains a NUL byte";
    return false;
  }
  rapidjson::InsituStringStream stream(body.data());
  rapidjson::Reader reader;
  rapidjson::ParseResult ok =
      IsAscii(body) ? reader.Parse<kParseFlags>(stream, handler)
                    : reader.Parse<kParseFlags | rapidjson::kParseValidateEncodingFlag>(stream, handler);
  if (!ok) {
    if (handler.error == BodyError::kNone) {
      handler.error = BodyError::kMalformed;
      handler.error_message = "malformed JSON at byte " + std::to_string(ok.Offset());
    }
    return false;
  }
  return true;
}

// ---- The binary bus record ---------------------------------------------------------
// The same rules as the JSON form's validation above, on fields that arrive typed: every
// text bounded, free of control characters and valid UTF-8 (a JSON parse checks that on
// the way); the request id printable ASCII; counts, latency and the estimate within the
// limits; enums and times in range; provider and model normalized again.

// 9999-12-31T23:59:59.999Z, the last time an RFC 3339 timestamp here can name.
constexpr int64_t kLastTimeMs = 253'402'300'799'999;

class BinaryChecker {
 public:
  explicit BinaryChecker(const IngestLimits& limits) : limits_(limits) {}

  void Text(const char* field, std::string_view s, size_t max_bytes) {
    if (std::string problem = TextProblem(s, max_bytes); !problem.empty()) {
      Add(field, problem);
    } else if (!IsValidUtf8(s)) {
      Add(field, "must be valid UTF-8");
    }
  }
  void RequestId(std::string_view s) {
    if (std::string problem = RequestIdProblem(s, limits_.max_request_id_bytes); !problem.empty()) {
      Add("request_id", problem);
    }
  }
  void AtMost(const char* field, uint64_t v, uint64_t max) {
    if (v > max) Add(field, "must be at most " + std::to_string(max));
  }
  void Time(const char* field, int64_t ms) {
    if (ms < 0 || ms > kLastTimeMs) Add(field, "must be a time between 1970 and 9999");
  }
  void Add(const char* field, std::string_view message) {
    if (!errors_.empty()) errors_ += "; ";
    errors_ += field;
    errors_.push_back(' ');
    errors_ += message;
  }
  const std::string& errors() const { return errors_; }

 private:
  const IngestLimits& limits_;
  std::string errors_;
};

RecordStatus ParseBinaryRecord(std::string_view record, const IngestLimits& limits,
                               const Normalizer& normalizer, UsageEvent& out) {
  VarintReader r(record.substr(1));
  EventFieldViews v;
  ReadEventFields(r, v);
  if (!r.ok() || !r.done()) {
    return {RecordFault::kMalformed, r.ok() ? "malformed binary record: bytes after its last field"
                                            : "malformed binary record: it ends inside a field"};
  }
  if (v.bits & ~kEventFieldBits) {
    return {RecordFault::kMalformed, "malformed binary record: unknown field bits"};
  }
  BinaryChecker check(limits);
  const size_t max_text = limits.max_string_bytes;
  check.Text("workspace", v.workspace, max_text);
  if (v.workspace.empty()) check.Add("workspace", "must not be empty");
  check.RequestId(v.request_id);
  check.Text("provider", v.provider, 64);
  const std::pair<const char*, std::string_view> texts[] = {{"model", v.model},
                                                            {"model_raw", v.model_raw},
                                                            {"endpoint_tag", v.endpoint_tag},
                                                            {"prompt_version", v.prompt_version},
                                                            {"project", v.project},
                                                            {"project_raw", v.project_raw},
                                                            {"environment", v.environment},
                                                            {"user_id", v.user_id},
                                                            {"tenant_id", v.tenant_id},
                                                            {"api_key_id", v.api_key_id}};
  for (const auto& [field, text] : texts) check.Text(field, text, max_text);
  if (v.data_mode > static_cast<uint8_t>(DataMode::kDemo)) {
    check.Add("data_mode", "must be one of real, test, demo");
  }
  const std::pair<const char*, TokenCount> counts[] = {
      {"input_tokens", v.input_tokens},
      {"output_tokens", v.output_tokens},
      {"cached_tokens", v.cached_tokens},
      {"cache_write_tokens", v.cache_write_tokens},
      {"cache_write_1h_tokens", v.cache_write_1h_tokens},
      {"reasoning_tokens", v.reasoning_tokens},
      {"total_tokens", (v.bits & kHasTotalTokens) ? v.total_tokens : 0}};
  for (const auto& [field, n] : counts) check.AtMost(field, n, limits.max_tokens);
  if (v.bits & kHasLatency) check.AtMost("latency_ms", v.latency_ms, limits.max_latency_ms);
  if ((v.bits & kHasStatus) && v.status > static_cast<uint8_t>(CallStatus::kCancelled)) {
    check.Add("status", "must be one of success, error, timeout, cancelled");
  }
  if ((v.bits & kHasEstimatedCost) &&
      (v.estimated_cost_nano < 0 ||
       v.estimated_cost_nano > limits.max_estimated_cost_usd * 1'000'000'000)) {
    check.Add("estimated_cost_usd", "must be a non-negative decimal amount of USD, at most " +
                                        std::to_string(limits.max_estimated_cost_usd));
  }
  check.Time("occurred_at", v.occurred_at_ms);
  check.Time("received_at", v.received_at_ms);
  if ((v.bits & kOccurredAtDefaulted) && v.occurred_at_ms != v.received_at_ms) {
    check.Add("occurred_at", "is defaulted, so it must equal received_at");
  }
  if (!check.errors().empty()) return {RecordFault::kInvalidEvent, check.errors()};

  AssignEventFields(v, out);
  normalizer.Provider(v.provider, out.provider);
  if (out.provider.empty()) check.Add("provider", "must not be empty");
  normalizer.Model(out.provider, v.model, out.model);
  if (out.model.empty()) check.Add("model", "must not be empty");
  if (!check.errors().empty()) return {RecordFault::kInvalidEvent, check.errors()};
  if (out.model_raw.empty()) out.model_raw.assign(v.model);
  // Unknown warning bits are dropped, as the JSON form ignores unknown warning names.
  out.warnings &= kWarnTotalTokensMismatch | kWarnUnknownProject;
  MarkTotalTokensMismatch(out);
  return {};
}

}  // namespace

ParsedBody EventParser::ParseIngest(std::string& body, const IngestContext& ctx) const {
  ParsedBody result;
  ParseIngest(body, ctx, result);
  return result;
}

void EventParser::ParseIngest(std::string& body, const IngestContext& ctx, ParsedBody& out) const {
  out.body_error = BodyError::kNone;
  out.body_message.clear();
  out.event_count = 0;
  out.event_index.clear();
  out.errors.clear();
  // Every event of the last parse is kept (the events past this one's are moved to
  // `spare`, which moves their strings' buffers and frees nothing).
  auto keep_only = [&out](size_t n) {
    while (out.events.size() > n) {
      out.spare.push_back(std::move(out.events.back()));
      out.events.pop_back();
    }
  };
  RawHandler handler(limits_, /*allow_batch=*/true, ThreadRawLists());
  if (!ParseRaw(body, handler)) {
    keep_only(0);
    out.body_error = handler.error;
    out.body_message = std::move(handler.error_message);
    return;
  }
  if (handler.is_batch && handler.top.count != 0) {
    keep_only(0);
    out.body_error = BodyError::kMalformed;
    out.body_message = "a batch body holds only \"events\"";
    return;
  }
  // A single event is the body object itself.
  const size_t count = handler.is_batch ? handler.events.size() : 1;
  out.event_count = count;
  out.events.reserve(count);
  EventValidator validator(limits_, normalizer_, Dialect::kIngest, &ctx);
  size_t valid = 0;
  for (size_t i = 0; i < count; ++i) {
    if (valid == out.events.size()) {
      if (out.spare.empty()) {
        out.events.emplace_back();
      } else {
        out.events.push_back(std::move(out.spare.back()));
        out.spare.pop_back();
      }
    }
    UsageEvent& ev = out.events[valid];
    ClearKeepingCapacity(ev);
    const RawEvent& raw = handler.is_batch ? handler.events[i] : handler.top;
    if (validator.Validate(raw, handler.MembersOf(raw), i, ev, out.errors)) {
      out.event_index.push_back(i);
      ++valid;
    }
  }
  keep_only(valid);
}

Result<UsageEvent> EventParser::ParseCanonical(std::string_view record) const {
  UsageEvent ev;
  std::string scratch;
  RecordStatus s = ParseCanonical(record, ev, scratch);
  if (!s.ok()) return InvalidArgument(std::move(s.message));
  return ev;
}

RecordStatus EventParser::ParseCanonical(std::string_view record, UsageEvent& out,
                                         std::string& scratch) const {
  if (!record.empty() && static_cast<unsigned char>(record[0]) == kBusRecordTag) {
    return ParseBinaryRecord(record, limits_, normalizer_, out);
  }
  scratch.assign(record);
  RawHandler handler(limits_, /*allow_batch=*/false, ThreadRawLists());
  if (!ParseRaw(scratch, handler)) {
    // Well-formed JSON past the nesting limit is a record that breaks a rule.
    return {handler.error == BodyError::kTooDeep ? RecordFault::kInvalidEvent : RecordFault::kMalformed,
            std::move(handler.error_message)};
  }
  EventValidator validator(limits_, normalizer_, Dialect::kCanonical, nullptr);
  std::vector<FieldError> errors;
  if (!validator.Validate(handler.top, handler.MembersOf(handler.top), 0, out, errors)) {
    std::string msg;
    for (const FieldError& e : errors) {
      if (!msg.empty()) msg += "; ";
      msg += e.field.empty() ? e.message : e.field + " " + e.message;
    }
    return {RecordFault::kInvalidEvent, std::move(msg)};
  }
  return {};
}

}  // namespace tokenmeter
