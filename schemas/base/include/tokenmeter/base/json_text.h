// Writing JSON text by hand on hot paths (responses, bus records): string escaping.
#ifndef TOKENMETER_BASE_JSON_TEXT_H_
#define TOKENMETER_BASE_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace tokenmeter {

// Appends `s` as a quoted JSON string. `s` must be valid UTF-8 (all our inputs are
// validated); quotes, backslashes and control characters are escaped.
void AppendJsonString(std::string& out, std::string_view s);

// Whether `s` is well-formed UTF-8: no stray continuation bytes, no overlong forms, no
// surrogates, nothing above U+10FFFF. For text that did not come through a JSON parser
// (binary bus records) before it is written as JSON.
bool IsValidUtf8(std::string_view s);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_JSON_TEXT_H_
