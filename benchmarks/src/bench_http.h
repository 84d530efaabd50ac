// The HTTP pieces the phases share: Beast/Asio names and one synchronous exchange on a
// connected stream (the caller's thread; used off the load generator's hot path).
#ifndef TOKENMETER_BENCHMARKS_BENCH_HTTP_H_
#define TOKENMETER_BENCHMARKS_BENCH_HTTP_H_

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <string>

namespace tokenmeter::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Sends one request (with X-API-Key when `api_key` is set, and a JSON body for POST)
// and reads the answer into `res`; false on any transport error or after 10 s.
inline bool Exchange(beast::tcp_stream& s, http::verb verb, const std::string& target, const std::string& api_key,
                     const std::string& body, http::response<http::string_body>& res) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!api_key.empty()) req.set("X-API-Key", api_key);
  if (verb == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  beast::error_code ec;
  s.expires_after(std::chrono::seconds(10));
  http::write(s, req, ec);
  if (ec) return false;
  beast::flat_buffer b;
  res = {};
  http::read(s, b, res, ec);
  return !ec;
}

}  // namespace tokenmeter::bench

#endif  // TOKENMETER_BENCHMARKS_BENCH_HTTP_H_
