#include "request_params.h"

#include <cctype>

#include "tokenmeter/auth/permissions.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

Params ParseQuery(std::string_view target) {
  Params p;
  size_t q = target.find('?');
  if (q == std::string_view::npos) return p;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    p[PercentDecode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return p;
}

KeyRef ReadKey(const KeyRing& keys, const Clock& clock, const HttpRequest& request, HttpResponse& error) {
  KeyRejection why;
  KeyRef key = keys.Verify(request.api_key, why, clock.Now().time_since_epoch().count());
  if (key == nullptr) {
    error = JsonError(401, "unauthorized", "missing or invalid API key");
    return nullptr;
  }
  if (!Allowed(key->role, Action::kRead)) {
    error = JsonError(403, "forbidden", ForbiddenMessage(key->role, Action::kRead));
    return nullptr;
  }
  return key;
}

}  // namespace tokenmeter
