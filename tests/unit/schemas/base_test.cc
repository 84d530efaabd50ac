// Exact money parsing/formatting, RFC 3339 timestamps, and the small pieces beside them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tokenmeter/base/base64.h"
#include "tokenmeter/base/crc32c.h"
#include "tokenmeter/base/enum_names.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/sha256.h"
#include "tokenmeter/base/status.h"
#include "tokenmeter/base/thread_name.h"
#include "tokenmeter/base/units.h"

namespace tokenmeter {
namespace {

TEST(UnitsTest, DecimalUsdParsesExactlyAndRoundsHalfToEven) {
  EXPECT_EQ(ParseDecimalUsd("0", 10), NanoUsd{0});
  EXPECT_EQ(ParseDecimalUsd("1.5", 10), NanoUsd{1'500'000'000});
  EXPECT_EQ(ParseDecimalUsd("0.000000001", 10), NanoUsd{1});
  EXPECT_EQ(ParseDecimalUsd("0.0000000005", 10), NanoUsd{0});    // tie -> even (0)
  EXPECT_EQ(ParseDecimalUsd("0.0000000015", 10), NanoUsd{2});    // tie -> even (2)
  EXPECT_EQ(ParseDecimalUsd("0.00000000050001", 10), NanoUsd{1});  // above the tie
  EXPECT_EQ(ParseDecimalUsd("0.0000000004999", 10), NanoUsd{0});
  EXPECT_EQ(ParseDecimalUsd("9.9999999995", 10), NanoUsd{10'000'000'000});  // rounds up to the max
}

TEST(UnitsTest, DecimalUsdRejectsNonDecimals) {
  for (const char* bad : {"", "-1", "+1", "1e3", ".5", "5.", "01.5", "1,5", "abc", "1.2.3"}) {
    EXPECT_EQ(ParseDecimalUsd(bad, 10), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseDecimalUsd("10.000000001", 10), std::nullopt);
  EXPECT_EQ(ParseDecimalUsd("10", 10), NanoUsd{10'000'000'000});
}

// Binary bus records carry text no JSON parser has checked; it must be UTF-8 before the
// query API writes it as JSON.
TEST(Utf8Test, WellFormedTextPassesAndEveryIllFormedKindFails) {
  for (const char* good :
       {"", "plain ascii text longer than eight bytes", "caf\xc3\xa9", "\xe2\x82\xac 1",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"}) {
    EXPECT_TRUE(IsValidUtf8(good)) << good;
  }
  for (const char* bad :
       {"\x80", "abcdefgh\xbf", "\xc3", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xe2\x82",
        "\xe2\x28\xa1", "ascii then \xf0\x9f\x98"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(Base64Test, TheRfc4648VectorsAndEveryByte) {
  auto b64 = [](std::string_view s) {
    std::string out = "=>";  // appends
    AppendBase64(out, s);
    return out;
  };
  EXPECT_EQ(b64(""), "=>");
  EXPECT_EQ(b64("f"), "=>Zg==");
  EXPECT_EQ(b64("fo"), "=>Zm8=");
  EXPECT_EQ(b64("foo"), "=>Zm9v");
  EXPECT_EQ(b64("foob"), "=>Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "=>Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "=>Zm9vYmFy");
  EXPECT_EQ(b64(std::string("\xc1\x00\xff\xfe", 4)), "=>wQD//g==");
}

TEST(UnitsTest, FormatUsdIsExact) {
  EXPECT_EQ(FormatUsd(NanoUsd{0}), "0.000000000");
  EXPECT_EQ(FormatUsd(NanoUsd{123000}), "0.000123000");
  EXPECT_EQ(FormatUsd(NanoUsd{12'500'000'001}), "12.500000001");
  EXPECT_EQ(FormatUsd(NanoUsd{-5}), "-0.000000005");
}

TEST(Rfc3339Test, ParsesOffsetsFractionsAndLeapDays) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z")->time_since_epoch().count(), 0);
  EXPECT_EQ(ParseRfc3339("2026-02-07T12:00:00.123Z")->time_since_epoch().count(), 1770465600123);
  EXPECT_EQ(ParseRfc3339("2026-02-07T14:00:00.123456+02:00"), ParseRfc3339("2026-02-07T12:00:00.123Z"));
  EXPECT_EQ(ParseRfc3339("2026-02-07t12:00:00z"), ParseRfc3339("2026-02-07T12:00:00Z"));
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST(Rfc3339Test, RejectsInvalidDates) {
  for (const char* bad : {"2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:00:00", "2026-01-01", "2026-01-01T00:00:00+2:00",
                          "2026-01-01T00:00:00.Z", "1969-12-31T23:59:59Z", "2026-01-01T00:00:00Zx"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339Test, FormatRoundTrips) {
  for (const char* t : {"2026-02-07T12:00:00.123Z", "2000-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z"}) {
    EXPECT_EQ(FormatRfc3339(*ParseRfc3339(t)), t);
  }
}

TEST(StatusTest, RetryableCodes) {
  EXPECT_TRUE(Unavailable("x").retryable());
  EXPECT_TRUE(ResourceExhausted("x").retryable());
  EXPECT_TRUE(DeadlineExceeded("x").retryable());
  EXPECT_FALSE(InvalidArgument("x").retryable());
  EXPECT_EQ(InvalidArgument("bad").ToString(), "INVALID_ARGUMENT: bad");
}

// What `top -H` and /proc/<pid>/task/<tid>/comm show for a thread named by NameThisThread.
std::string NameOf(std::thread& t, auto&& body) {
  std::string name;
  t = std::thread([&] {
    body();
    std::ifstream comm("/proc/self/task/" + std::to_string(gettid()) + "/comm");
    std::getline(comm, name);
  });
  t.join();
  return name;
}

// The published CRC-32C check values (RFC 3720, B.4, and the "123456789" check), from
// the CPU instruction and the table alike, and the two agreeing on every length and
// alignment a log record can have around the 8-byte steps.
TEST(Crc32cTest, MatchesThePublishedCheckValuesOnBothPaths) {
  std::string zeros(32, '\0'), ones(32, '\xff'), ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  for (auto crc : {&Crc32c, &Crc32cPortable}) {
    EXPECT_EQ(crc("123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc(zeros.data(), 32), 0x8A9136AAu);
    EXPECT_EQ(crc(ones.data(), 32), 0x62A8AB43u);
    EXPECT_EQ(crc(ascending.data(), 32), 0x46DD794Eu);
    EXPECT_EQ(crc(descending.data(), 32), 0x113FDB5Cu);
    EXPECT_EQ(crc("", 0), 0u);
  }
  std::string bytes;
  uint32_t x = 12345;
  for (int i = 0; i < 300; ++i)
    bytes.push_back(static_cast<char>((x = x * 1103515245 + 12345) >> 16));
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; start + n <= bytes.size(); n += 7) {
      ASSERT_EQ(Crc32c(bytes.data() + start, n), Crc32cPortable(bytes.data() + start, n))
          << start << " " << n;
    }
  }
}

// The FIPS 180-2 example digests, the same again from several threads at once (each keeps
// its own digest context), and a context reused after a longer input gives the short one's
// digest, not a continuation.
TEST(Sha256Test, MatchesThePublishedDigestsOnEveryThread) {
  const std::string million(1000000, 'a');
  auto check = [&] {
    EXPECT_EQ(Sha256Hex(Sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(Sha256Hex(Sha256(million)),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    EXPECT_EQ(Sha256Hex(Sha256("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(check);
  check();
  for (auto& t : threads) t.join();
}

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsAtFifteenCharacters) {
  std::thread t;
  EXPECT_EQ(NameOf(t, [] { NameThisThread("tm-processor"); }), "tm-processor");
  EXPECT_EQ(NameOf(t, [] { NameThisThread("tm-a-name-longer-than-fifteen"); }), "tm-a-name-longe");
}

TEST(ThreadNameTest, StartThreadNamesTheThreadBeforeItsBodyRuns) {
  std::string name;
  std::thread t = StartThread("tm-test-start", [&name] {
    std::ifstream comm("/proc/self/task/" + std::to_string(gettid()) + "/comm");
    std::getline(comm, name);
  });
  t.join();
  EXPECT_EQ(name, "tm-test-start");
}

// A name table answers both ways from one list; a value outside it has no name.
TEST(EnumNamesTest, NamesAndParsingComeFromOneTable) {
  enum class Color : uint8_t { kRed, kGreen, kBlue };
  constexpr EnumNames<Color, 3> kColors({"red", "green", "blue"});
  static_assert(kColors.Name(Color::kGreen) == "green");
  for (Color c : {Color::kRed, Color::kGreen, Color::kBlue}) {
    EXPECT_EQ(kColors.Parse(kColors.Name(c)), std::optional<Color>(c));
  }
  EXPECT_EQ(kColors.Parse("Red"), std::nullopt) << "exact names only";
  EXPECT_EQ(kColors.Parse(""), std::nullopt);
  EXPECT_EQ(kColors.Name(static_cast<Color>(3)), "");
}

}  // namespace
}  // namespace tokenmeter
