// RequestParser: Beast's HTTP/1.1 request parser with the few fields the server hands on
// kept straight into an HttpRequest. Internal to tm_http (http_server.cc); one per
// connection, on that connection's I/O thread.
#ifndef TOKENMETER_HTTP_SRC_REQUEST_PARSER_H_
#define TOKENMETER_HTTP_SRC_REQUEST_PARSER_H_

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

#include "tokenmeter/http/http_forward.h"
#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

namespace beast = boost::beast;
namespace http = beast::http;

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Beast's HTTP/1.1 parser (framing, limits, chunked decoding) with the few fields the
// server hands on kept straight into the request: no field container is built, so a
// request allocates only its own strings. The first occurrence of a field wins.
class RequestParser final : public http::basic_parser<true> {
 public:
  HttpRequest request;
  int transfer_encodings = 0;
  bool chunked_only = false;
  bool expect_continue = false;

  // The API key: X-API-Key, else the token of "Authorization: Bearer <token>".
  void TakeApiKey() {
    if (!has_api_key_) request.api_key = std::move(bearer_);
  }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target, int,
                       beast::error_code&) override {
    request.method.assign(method.data(), method.size());
    request.target.assign(target.data(), target.size());
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code&) override {
    std::string_view v = Trim(std::string_view(value.data(), value.size()));
    switch (name) {
      case http::field::content_type:
        if (!has_content_type_) request.content_type.assign(v);
        has_content_type_ = true;
        break;
      case http::field::transfer_encoding:
        ++transfer_encodings;
        chunked_only = beast::iequals(v, "chunked");
        break;
      case http::field::expect:
        if (beast::iequals(v, "100-continue")) expect_continue = true;
        break;
      case http::field::authorization:
        if (!has_authorization_ && v.size() > 7 && beast::iequals(v.substr(0, 7), "Bearer ")) {
          bearer_.assign(Trim(v.substr(7)));
        }
        has_authorization_ = true;
        break;
      default:
        if (!has_api_key_ && beast::iequals(name_string, "X-API-Key")) {
          request.api_key.assign(v);
          has_api_key_ = true;
        } else if (beast::iequals(name_string, kForwardedHeader)) {
          request.forwarded = true;
        }
        break;
    }
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    // The parser has already refused a length over the body limit.
    if (length) request.body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  bool has_content_type_ = false;
  bool has_authorization_ = false;
  bool has_api_key_ = false;
  std::string bearer_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_SRC_REQUEST_PARSER_H_
