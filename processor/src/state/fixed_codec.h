// Fixed-width integer encodings of the state families: big-endian for key parts (so byte
// order is numeric order) and little-endian for values. Header-only, pure; any thread.
#ifndef TOKENMETER_PROCESSOR_STATE_FIXED_CODEC_H_
#define TOKENMETER_PROCESSOR_STATE_FIXED_CODEC_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tokenmeter {

// Appends the low `bytes` bytes of v, most significant first.
inline void AppendBigEndian(std::string& out, uint64_t v, int bytes = 8) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// The `bytes`-byte big-endian number at `at`; the caller checks the size.
inline uint64_t GetBigEndian(std::string_view b, size_t at, int bytes = 8) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

// Writes v big-endian into the 8 bytes at `dst` (one store, for keys built in place).
inline void StoreBigEndian64(char* dst, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(dst, &v, 8);
}

// Little-endian values are read and written a word at a time: the byte loops they replace
// compiled to a load or store per byte (and a reload of the string's buffer per store).
inline uint64_t LittleEndian64(uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) return __builtin_bswap64(v);
  return v;
}

// Writes v little-endian into the 8 bytes at `dst`.
inline void StoreFixed64(char* dst, int64_t v) {
  uint64_t le = LittleEndian64(static_cast<uint64_t>(v));
  std::memcpy(dst, &le, 8);
}

inline void PutFixed64(std::string& out, int64_t v) {
  char b[8];
  StoreFixed64(b, v);
  out.append(b, 8);
}

// The little-endian int64 at `at`; the caller checks the size.
inline int64_t GetFixed64(std::string_view b, size_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return static_cast<int64_t>(LittleEndian64(v));
}

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_STATE_FIXED_CODEC_H_
