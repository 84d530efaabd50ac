// Compact binary fields (the bus record and the stored event row): unsigned LEB128
// varints, zigzag-signed varints, length-prefixed texts, and a reader that marks any
// overrun instead of reading past its bytes. Header-only, pure value code.
#ifndef TOKENMETER_BASE_VARINT_H_
#define TOKENMETER_BASE_VARINT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tokenmeter {

inline constexpr size_t kMaxVarint = 10;  // bytes of the longest 64-bit varint

// The writers put at `p`, which the caller sized for the worst case (a push_back per byte
// cost ~60 instructions a varint), and return the position after what they wrote.
inline char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline char* PutSigned(char* p, int64_t v) {
  return PutVarint(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));  // zigzag
}
inline char* PutText(char* p, std::string_view s) {
  p = PutVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());  // an empty view's data() may be null
  return p + s.size();
}

// Reads fields back in order; an overrun or an over-long varint clears ok() and yields
// zeros and empty texts from then on.
class VarintReader {
 public:
  explicit VarintReader(std::string_view b) : b_(b) {}
  bool ok() const { return ok_; }
  bool done() const { return at_ == b_.size(); }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= b_.size()) break;
      unsigned char c = static_cast<unsigned char>(b_[at_++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t Signed() {
    uint64_t z = Varint();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  uint8_t Byte() {
    if (at_ >= b_.size()) {
      ok_ = false;
      return 0;
    }
    return static_cast<uint8_t>(b_[at_++]);
  }
  // A view into the reader's bytes.
  std::string_view Text() {
    uint64_t n = Varint();
    if (!ok_ || n > b_.size() - at_) {
      ok_ = false;
      return {};
    }
    std::string_view s = b_.substr(at_, n);
    at_ += n;
    return s;
  }

 private:
  std::string_view b_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_VARINT_H_
