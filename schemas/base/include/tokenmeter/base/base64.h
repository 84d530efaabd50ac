// Standard base64 (RFC 4648 section 4, with '=' padding) of arbitrary bytes: for bytes
// that must travel inside text (webhook signatures, dead-lettered binary records).
#ifndef TOKENMETER_BASE_BASE64_H_
#define TOKENMETER_BASE_BASE64_H_

#include <string>
#include <string_view>

namespace tokenmeter {

// Appends the base64 of `bytes` to `out`.
void AppendBase64(std::string& out, std::string_view bytes);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_BASE64_H_
