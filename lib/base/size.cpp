#include "banger/size.h"

#include <cctype>
#include <cmath>
#include <limits>

namespace banger {

std::optional<uint64_t> parseSize(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  // Longer than any real size; also keeps std::stold away from out-of-range input.
  if (number.empty() || number.size() > 24 || number.find('.') != number.rfind('.') ||
      number == ".") {
    return std::nullopt;
  }
  if (unit.size() > 1 && (unit.substr(1) == "iB" || unit.substr(1) == "B"))
    unit = unit.substr(0, 1);
  uint64_t scale = 1;
  if (!unit.empty()) {
    if (unit.size() != 1) return std::nullopt;
    switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
      case 'B':
        scale = 1;
        break;
      case 'K':
        scale = 1ULL << 10;
        break;
      case 'M':
        scale = 1ULL << 20;
        break;
      case 'G':
        scale = 1ULL << 30;
        break;
      case 'T':
        scale = 1ULL << 40;
        break;
      default:
        return std::nullopt;
    }
  }
  const long double value = std::stold(std::string(number)) * static_cast<long double>(scale);
  if (value > static_cast<long double>(std::numeric_limits<uint64_t>::max())) return std::nullopt;
  if (value != std::floor(value)) return std::nullopt;
  return static_cast<uint64_t>(value);
}

std::string formatSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"T", "G", "M", "K"};
  static constexpr int kShifts[] = {40, 30, 20, 10};
  for (int i = 0; i < 4; ++i) {
    const uint64_t unit = 1ULL << kShifts[i];
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + kUnits[i];
  }
  return std::to_string(bytes);
}

}  // namespace banger
