// CRC-32C (Castagnoli, as in iSCSI and RocksDB): the embedded log's record checksum.
// Computed with the CPU's crc32 instruction where it has one (SSE 4.2: 8 bytes per ~3
// cycles in one dependent chain; zlib's CRC-32 measured ~3 cycles a byte here), by table
// otherwise; both give the same value. Pure function, any thread.
#ifndef TOKENMETER_BASE_CRC32C_H_
#define TOKENMETER_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace tokenmeter {

uint32_t Crc32c(const char* data, size_t n);

// The table-driven form, whatever the CPU (for tests to compare with Crc32c).
uint32_t Crc32cPortable(const char* data, size_t n);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_CRC32C_H_
