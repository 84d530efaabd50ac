// Fuzz target: the bytes of an HTTP/1.1 connection as the server's request parser reads
// them (Beast's parser with the fields the server keeps), fed in pieces as a socket gives
// them (the first byte picks the piece size), request after request. Any bytes must parse
// or be refused, never crash or read out of bounds; a parsed request's body never exceeds
// the body limit, and Beast takes a body as chunked only when the Transfer-Encoding the
// server checked (one, "chunked") says so.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "request_parser.h"

using namespace tokenmeter;

namespace {
constexpr size_t kHeaderLimit = 8 << 10;
constexpr size_t kBodyLimit = 64 << 10;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (int requests = 0; requests < 16 && !in.empty(); ++requests) {
    std::optional<RequestParser> parser;
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(kBodyLimit);
    bool header_checked = false;
    size_t buffered = std::min(piece, in.size());  // what the socket gave so far
    while (!parser->is_done()) {
      beast::error_code ec;
      const size_t used = parser->put(boost::asio::buffer(in.data(), buffered), ec);
      if (used > buffered) __builtin_trap();
      in.remove_prefix(used);
      buffered -= used;
      if (ec && ec != http::error::need_more) return 0;  // refused: 4xx, connection closed
      if (parser->is_header_done() && !header_checked) {
        header_checked = true;
        // The server's own check (http_server.cc OnHeader): one Transfer-Encoding, chunked.
        if (parser->transfer_encodings > 0 && (parser->transfer_encodings > 1 || !parser->chunked_only)) return 0;
        if (parser->chunked() && parser->transfer_encodings != 1) __builtin_trap();
        parser->eager(true);
      }
      if (parser->is_done()) break;
      if (ec == http::error::need_more || used == 0) {
        if (buffered == in.size()) return 0;  // the connection ends mid-request
        buffered = std::min(in.size(), buffered + piece);  // the next read
      }
    }
    parser->TakeApiKey();
    const HttpRequest& r = parser->request;
    if (r.body.size() > kBodyLimit) __builtin_trap();
    if (r.method.empty()) __builtin_trap();
  }
  return 0;
}
