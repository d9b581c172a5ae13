// Small text helpers shared by protocol code (DNS names, HTTP header names) and by what
// builds shell command lines for a guest.
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

// `text` without the newlines and spaces that end it: a program's stderr as one message.
inline std::string withoutTrailingSpace(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// One word for a POSIX shell, whatever it holds: 'it'\''s' for it's.
inline std::string shellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace banger
