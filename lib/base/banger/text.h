// Small text helpers shared by protocol code (DNS names, HTTP header names).
#pragma once

#include <algorithm>
#include <string>

namespace banger {

// ASCII lower case, whatever the locale: protocol names are case-insensitive in ASCII only.
inline std::string asciiLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; });
  return text;
}

}  // namespace banger
