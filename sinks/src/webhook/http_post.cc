#include "http_post.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tokenmeter {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Exchange {
  const HttpUrl& url;
  http::request<http::string_body> request;
  HttpPostReply reply;
  std::string error;  // "" = success
  bool done = false;

  asio::awaitable<void> Run(beast::tcp_stream& stream, tcp::resolver& resolver) {
    beast::error_code ec;
    auto results = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail("cannot resolve " + url.host + ": " + ec.message());
    co_await stream.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail("connect: " + ec.message());
    co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail("send: " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail("no response: " + ec.message());
    reply.status = static_cast<int>(parser.get().result_int());
    if (auto it = parser.get().find(http::field::retry_after); it != parser.get().end()) {
      reply.retry_after = std::string(it->value());
    }
    if (auto it = parser.get().find(http::field::location); it != parser.get().end()) {
      reply.location = std::string(it->value());
    }
    // The status decides; a body that is too large or cut short does not change it.
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);  // closing; the outcome is known
    done = true;
  }

  void Fail(std::string why) {
    error = std::move(why);
    done = true;
  }
};

}  // namespace

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("webhook url must start with http://: " + url);
  std::string rest = url.substr(kScheme.size());
  HttpUrl u;
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.target = rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return InvalidArgument("webhook url needs a host (and no user info): " + url);
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return InvalidArgument("webhook url has a bad port: " + url);
    }
    u.port = static_cast<uint16_t>(std::stoi(port));
    authority.resize(colon);
  }
  u.host = authority;
  return u;
}

Result<HttpPostReply> HttpPost(const HttpUrl& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  tcp::resolver resolver(ioc);
  Exchange x{url, {}, {}, {}, false};
  x.request.method(http::verb::post);
  x.request.target(url.target);
  x.request.version(11);
  x.request.set(http::field::host, url.port == 80 ? url.host : url.host + ":" + std::to_string(url.port));
  x.request.set(http::field::user_agent, "tokenmeter");
  x.request.set(http::field::connection, "close");
  for (const auto& [k, v] : headers) x.request.set(k, v);
  x.request.body() = body;
  x.request.prepare_payload();
  stream.expires_after(timeout);
  asio::co_spawn(ioc, x.Run(stream, resolver), asio::detached);
  // The whole exchange, resolve included, within `timeout`.
  ioc.run_for(timeout);
  if (!x.done) {
    // Let the exchange unwind on this thread before its objects go: close, then run the
    // cancelled operations' completions.
    beast::error_code ignored;
    stream.socket().close(ignored);
    resolver.cancel();
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(200));
    return DeadlineExceeded("no complete response within " + std::to_string(timeout.count()) + " ms");
  }
  if (!x.error.empty()) {
    if (x.error.find("timeout") != std::string::npos || x.error.find("timed out") != std::string::npos) {
      return DeadlineExceeded(x.error);
    }
    return Unavailable(x.error);
  }
  return x.reply;
}

}  // namespace tokenmeter
