#include "tokenmeter/model/event_parser.h"

#include "binary_record.h"
#include "event_validator.h"
#include "raw_json.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {

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
