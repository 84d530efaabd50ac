#include "http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tokenmeter::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

Reply FromBeast(http::response<http::string_body>& res) {
  Reply r;
  r.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = res.body();
  return r;
}

}  // namespace

Reply Request(uint16_t port, const std::string& method, const std::string& target,
              const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {};
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return {};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) return {};
  return FromBeast(parser.get());
}

Reply PostJson(uint16_t port, const std::string& target, const std::string& key,
               const std::string& body) {
  std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"}};
  if (!key.empty()) h.emplace_back("X-API-Key", key);
  return Request(port, "POST", target, body, h);
}

std::string SendRaw(uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {};
  stream.expires_after(timeout);
  asio::write(stream, asio::buffer(bytes), ec);
  std::string out;
  char buf[8192];
  for (;;) {
    size_t n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

std::vector<Reply> ParseResponses(const std::string& raw) {
  std::vector<Reply> out;
  beast::error_code ec;
  size_t pos = 0;
  while (pos < raw.size()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(boost::none);  // a test may read answers larger than Beast's 8 MiB default
    size_t used = parser.put(asio::buffer(raw.data() + pos, raw.size() - pos), ec);
    if (ec || !parser.is_done()) break;
    pos += used;
    out.push_back(FromBeast(parser.get()));
  }
  return out;
}

}  // namespace tokenmeter::testing
