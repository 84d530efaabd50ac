// Stage 1 of the event parser: a body parsed in situ (RapidJSON SAX) into raw members.
// Internal to tm_model (event_parser.cc). Any thread; the lists are per thread.
#ifndef TOKENMETER_MODEL_SRC_RAW_JSON_H_
#define TOKENMETER_MODEL_SRC_RAW_JSON_H_

#include <rapidjson/reader.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {

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
  // The keys seen so far in each open object inside an unknown member (one list per kSkip
  // frame, unused for arrays), to refuse a duplicate there as at an event's top level.
  std::vector<std::vector<std::string_view>> nested_keys;

  void Clear() {
    // A list grown by an outsized body is not kept (bodies are bounded, but the thread lives long).
    constexpr size_t kKeptMembers = 16384;
    if (members.capacity() > kKeptMembers) std::vector<RawMember>().swap(members);
    members.clear();
    top.clear();
    events.clear();
    frames.clear();
    nested_keys.clear();
  }
};

// This thread's lists, cleared (their capacity kept).
RawLists& ThreadRawLists();

class RawHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RawHandler> {
 public:
  RawHandler(const IngestLimits& limits, bool allow_batch, RawLists& lists)
      : members(lists.members),
        top_members(lists.top),
        events(lists.events),
        limits_(limits),
        allow_batch_(allow_batch),
        frames_(lists.frames),
        nested_keys_(lists.nested_keys) {}

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
    if (frames_.back() == Frame::kSkip) NestedKey();
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

  // Back to the state before a parse (the lists emptied), to parse a body again.
  void Reset() {
    members.clear();
    top_members.clear();
    events.clear();
    frames_.clear();
    nested_keys_.clear();
    error = BodyError::kNone;
    error_message.clear();
    is_batch = false;
    top = RawEvent{};
    key_ = {};
  }

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
        PushSkip();
        return true;
      case Frame::kEventsArray:
        if (!NewEvent()) return false;
        if (is_array) events.back().structural_error = "event must be a JSON object";
        if (is_array) {
          PushSkip();
        } else {
          frames_.push_back(Frame::kEvent);
        }
        return true;
      case Frame::kSkip:
        PushSkip();
        return true;
    }
    return true;
  }

  bool Close() {
    if (frames_.back() == Frame::kSkip) nested_keys_.pop_back();
    frames_.pop_back();
    return true;
  }

  // A key of an object inside an unknown member: a second one of the same name makes its
  // event unusable (the body stays, as for any other invalid event).
  void NestedKey() {
    std::vector<std::string_view>& seen = nested_keys_.back();
    if (std::find(seen.begin(), seen.end(), key_) == seen.end()) {
      seen.push_back(key_);
      return;
    }
    const bool in_batch_event = frames_.size() > 2 && frames_[1] == Frame::kEventsArray && !events.empty();
    RawEvent& ev = in_batch_event ? events.back() : top;
    if (!ev.structural_error) ev.structural_error = "duplicate key inside a nested member";
  }

  void PushSkip() {
    frames_.push_back(Frame::kSkip);
    nested_keys_.emplace_back();
  }

  const IngestLimits& limits_;
  bool allow_batch_;
  std::vector<Frame>& frames_;
  std::vector<std::vector<std::string_view>>& nested_keys_;
  std::string_view key_;
};

// Runs stage 1. Returns false with `error`/`message` set when the body is rejected whole.
bool ParseRaw(std::string& body, RawHandler& handler);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_SRC_RAW_JSON_H_
