#include "banger/options.h"

#include <algorithm>

#include "banger/errors.h"

namespace banger {

Options Options::parse(const VariantMap& input, const std::vector<OptionKey>& schema,
                       const std::string& what) {
  if (input.size() > kMaxOptionKeys) {
    fail(ErrorCode::InvalidArgument, what + " has " + std::to_string(input.size()) +
                                         " keys; at most " + std::to_string(kMaxOptionKeys) +
                                         " are accepted");
  }
  Options out;
  for (const auto& entry : input) {
    const std::string& key = entry.first;
    const sdbus::Variant& value = entry.second;
    auto it = std::find_if(schema.begin(), schema.end(),
                           [&key](const OptionKey& k) { return k.name == key; });
    if (it == schema.end()) {
      std::string known;
      for (const auto& k : schema) known += (known.empty() ? "" : ", ") + k.name;
      fail(ErrorCode::InvalidArgument,
           "unknown key '" + key + "' in " + what +
               (known.empty() ? " (no keys are accepted)" : " (accepted: " + known + ")"));
    }
    const std::string actual = value.peekValueType();
    if (actual != it->signature) {
      fail(ErrorCode::InvalidArgument, "key '" + key + "' in " + what + " must have type '" +
                                           it->signature + "', not '" + actual + "'");
    }
    out.values_.emplace(key, value);
  }
  return out;
}

std::optional<std::string> Options::string(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second.get<std::string>();
}

std::optional<bool> Options::boolean(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second.get<bool>();
}

std::optional<uint32_t> Options::uint32(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second.get<uint32_t>();
}

std::optional<uint64_t> Options::uint64(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second.get<uint64_t>();
}

}  // namespace banger
