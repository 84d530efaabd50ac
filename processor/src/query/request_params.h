// Shared request plumbing of the read APIs: query-string parsing and the read-key check.
// Pure functions; any thread.
#ifndef TOKENMETER_PROCESSOR_QUERY_REQUEST_PARAMS_H_
#define TOKENMETER_PROCESSOR_QUERY_REQUEST_PARAMS_H_

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

using Params = std::unordered_map<std::string, std::string>;

std::string PercentDecode(std::string_view s);
// The decoded parameters after '?' in a request target.
Params ParseQuery(std::string_view target);

// The key of a request that may read (owner, admin or member), or the 401/403 to answer.
KeyRef ReadKey(const KeyRing& keys, const Clock& clock, const HttpRequest& request, HttpResponse& error);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_QUERY_REQUEST_PARAMS_H_
