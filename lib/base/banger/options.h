// Strict parsing of a{sv} option dictionaries: every key must be declared with its
// D-Bus type; an unknown key or a wrong type is InvalidArgument naming the key.
#pragma once

#include <sdbus-c++/Types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace banger {

using VariantMap = std::map<std::string, sdbus::Variant>;

struct OptionKey {
  std::string name;
  std::string signature;  // "s", "b", "u", "t", ...
};

// More keys than any schema has is refused before each is looked at.
inline constexpr size_t kMaxOptionKeys = 32;

class Options {
 public:
  // `what` names the dictionary in error messages ("spec", "options").
  static Options parse(const VariantMap& input, const std::vector<OptionKey>& schema,
                       const std::string& what = "options");

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::optional<std::string> string(const std::string& key) const;
  std::optional<bool> boolean(const std::string& key) const;
  std::optional<uint32_t> uint32(const std::string& key) const;
  std::optional<uint64_t> uint64(const std::string& key) const;

 private:
  VariantMap values_;
};

}  // namespace banger
