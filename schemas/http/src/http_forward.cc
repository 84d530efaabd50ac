#include "tokenmeter/http/http_forward.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace tokenmeter {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// "http://host:port" → host, port.
bool SplitUrl(const std::string& url, std::string& host, std::string& port) {
  constexpr std::string_view kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  host = rest.substr(0, colon);
  port = rest.substr(colon + 1);
  return rest.find('/') == std::string::npos;
}

bool HopByHop(http::field f) {
  return f == http::field::connection || f == http::field::keep_alive || f == http::field::transfer_encoding ||
         f == http::field::content_length || f == http::field::content_type;
}

}  // namespace

Result<HttpResponse> ForwardHttp(const std::string& base_url, const HttpRequest& request, const ForwardLimits& limits) {
  std::string host, port;
  if (!SplitUrl(base_url, host, port)) return InvalidArgument("not an http://host:port address: " + base_url);
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(limits.timeout);
  beast::error_code failure;
  std::optional<http::response_parser<http::string_body>> parser;
  parser.emplace();
  parser->body_limit(limits.max_body_bytes);
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::string_to_verb(request.method), request.target, 11};
  req.set(http::field::host, host + ":" + port);
  req.set(http::field::connection, "close");
  req.set("X-API-Key", request.api_key);
  req.set(kForwardedHeader, "1");
  if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
  req.body() = request.body;
  req.prepare_payload();

  asio::ip::tcp::resolver resolver(ioc);
  resolver.async_resolve(host, port, [&](beast::error_code ec, asio::ip::tcp::resolver::results_type hosts) {
    if (ec) return void(failure = ec);
    stream.async_connect(hosts, [&](beast::error_code ec, const asio::ip::tcp::endpoint&) {
      if (ec) return void(failure = ec);
      http::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec) return void(failure = ec);
        http::async_read(stream, buffer, *parser, [&](beast::error_code ec, size_t) { failure = ec; });
      });
    });
  });
  ioc.run();
  if (failure == http::error::body_limit) {
    return ResourceExhausted("the answer of " + base_url + " is over " + std::to_string(limits.max_body_bytes) +
                             " bytes");
  }
  if (failure) return Unavailable(base_url + ": " + failure.message());
  const http::response<http::string_body>& res = parser->get();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  for (const auto& field : res) {
    if (HopByHop(field.name())) continue;
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(parser->release().body());
  return out;
}

}  // namespace tokenmeter
