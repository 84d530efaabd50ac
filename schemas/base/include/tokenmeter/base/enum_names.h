// EnumNames: one table per enum, holding the names of its values 0..N-1 in order; a value's
// name and a name's value are both read from it, so they cannot drift apart. A table is
// declared beside its enum's functions with the enum's value count, so a value added to
// the enum without a name does not compile. Immutable; any thread.
#ifndef TOKENMETER_BASE_ENUM_NAMES_H_
#define TOKENMETER_BASE_ENUM_NAMES_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace tokenmeter {

template <typename E, size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(std::array<std::string_view, N> names) : names_(names) {}

  // "" for a value outside the table (never made by our code).
  constexpr std::string_view Name(E e) const {
    const size_t i = static_cast<size_t>(e);
    return i < N ? names_[i] : std::string_view();
  }
  constexpr std::optional<E> Parse(std::string_view s) const {
    for (size_t i = 0; i < N; ++i) {
      if (names_[i] == s) return static_cast<E>(i);
    }
    return std::nullopt;
  }

 private:
  std::array<std::string_view, N> names_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_ENUM_NAMES_H_
