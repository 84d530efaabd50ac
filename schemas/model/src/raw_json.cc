#include "raw_json.h"

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

}  // namespace tokenmeter
