#include "tokenmeter/base/json_text.h"

namespace tokenmeter {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  // Append runs of characters that need no escape whole: most strings are one run.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool quote = c == '"' || c == '\\';
    bool control = c < 0x20 || c == 0x7f;
    if (!quote && !control) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (quote) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace tokenmeter
