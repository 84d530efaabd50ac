// Writing JSON text by hand on hot paths (responses, bus records): string escaping.
#ifndef TOKENMETER_BASE_JSON_TEXT_H_
#define TOKENMETER_BASE_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace tokenmeter {

// Appends `s` as a quoted JSON string. `s` must be valid UTF-8 (all our inputs are
// validated); quotes, backslashes and control characters are escaped.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_JSON_TEXT_H_
