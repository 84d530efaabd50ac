// Normalizer: provider aliases and model-name normalization, from the data table
// schemas/model/data/normalization.json (compiled into the binary).
//
// Providers: trimmed, lowercased, then mapped through the alias table (gemini -> google).
// Models: trimmed, lowercased, a leading "<provider>/" or "models/" prefix removed, then
// mapped through the model alias table. Resolving dated names against the pricing
// catalog is the processor's job; the raw name always travels beside the normalized one.
// Immutable after construction; safe to share across threads. Each thread remembers the
// last few names it normalized (a stream repeats a handful of providers and models), so a
// repeated name is copied instead of normalized again.
#ifndef TOKENMETER_MODEL_NORMALIZER_H_
#define TOKENMETER_MODEL_NORMALIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

class Normalizer {
 public:
  // Builds from the embedded table. Fails only if the committed table is malformed.
  static Result<Normalizer> FromEmbeddedTable();
  // Builds from table JSON text (tests and overrides).
  static Result<Normalizer> FromJson(std::string_view json);

  std::string Provider(std::string_view raw) const;
  std::string Model(std::string_view provider, std::string_view raw) const;
  // The same into `out` (replaced), whose buffer is reused: the processor's per-event path.
  void Provider(std::string_view raw, std::string& out) const;
  void Model(std::string_view provider, std::string_view raw, std::string& out) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Aliases = std::unordered_map<std::string, std::string, Hash, std::equal_to<>>;
  static uint64_t NextId();
  void ProviderUncached(std::string_view raw, std::string& out) const;
  void ModelUncached(std::string_view raw, std::string& out) const;

  Aliases provider_aliases_;
  Aliases model_aliases_;
  std::vector<std::string> model_prefixes_;
  // Names this table's results in the per-thread memo; a copy has the same tables, so it
  // keeps the id.
  uint64_t id_ = NextId();
};

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_NORMALIZER_H_
