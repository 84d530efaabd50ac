#include "raw_json.h"

#include <algorithm>
#include <cstring>

namespace tokenmeter {

RawLists& ThreadRawLists() {
  thread_local RawLists lists;
  lists.Clear();
  return lists;
}

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

bool ParseRaw(std::string& body, RawHandler& handler) {
  if (body.find('\0') != std::string::npos) {
    handler.error = BodyError::kMalformed;
    handler.error_message = "body contains a NUL byte";
    return false;
  }
  // RapidJSON refuses a number beyond a double's range even when it hands numbers over as
  // text, which would fail the whole body for one member. Such a number is parsed again as
  // a string of the same length: an unknown member holding it is ignored as any other, a
  // field holding it is that one event's error (parsing in place changes the body, so the
  // retry starts from a copy taken before).
  thread_local std::string pristine;
  pristine.assign(body);
  const bool ascii = IsAscii(body);
  for (int retries = 0;; ++retries) {
    // RapidJSON's UTF-8 check reads a multi-byte sequence's continuation bytes before it
    // looks for the end: a body that ends inside one was read up to 3 bytes past its NUL
    // (found by tests/fuzz). NULs after it keep that read inside the buffer (the first
    // one is still the end); an ASCII body holds no such sequence.
    if (!ascii) body.append(3, '\0');
    rapidjson::InsituStringStream stream(body.data());
    rapidjson::Reader reader;
    rapidjson::ParseResult ok =
        ascii ? reader.Parse<kParseFlags>(stream, handler)
              : reader.Parse<kParseFlags | rapidjson::kParseValidateEncodingFlag>(stream, handler);
    if (ok) return true;
    if (ok.Code() == rapidjson::kParseErrorNumberTooBig && handler.error == BodyError::kNone && retries < 16) {
      const size_t begin = ok.Offset();
      size_t end = begin;
      while (end < pristine.size() && std::strchr("0123456789+-.eE", pristine[end]) != nullptr && pristine[end] != '\0') ++end;
      if (end - begin >= 2) {
        pristine[begin] = '"';
        std::fill(pristine.begin() + static_cast<ptrdiff_t>(begin) + 1, pristine.begin() + static_cast<ptrdiff_t>(end) - 1, 'x');
        pristine[end - 1] = '"';
        body.assign(pristine);
        handler.Reset();
        continue;
      }
    }
    if (handler.error == BodyError::kNone) {
      handler.error = BodyError::kMalformed;
      handler.error_message = "malformed JSON at byte " + std::to_string(ok.Offset());
    }
    return false;
  }
}

}  // namespace tokenmeter
