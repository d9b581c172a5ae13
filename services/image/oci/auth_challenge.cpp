#include "oci/auth_challenge.h"

#include "banger/text.h"

namespace banger::image::oci {
namespace {

constexpr std::size_t kMaxHeader = 8192;

bool tokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void skipSpace(std::string_view text, std::size_t& pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
}

std::string readToken(std::string_view text, std::size_t& pos) {
  std::size_t start = pos;
  while (pos < text.size() && tokenChar(text[pos])) ++pos;
  return std::string(text.substr(start, pos - start));
}

}  // namespace

std::string Challenge::param(const std::string& name) const {
  auto found = params.find(name);
  return found == params.end() ? std::string() : found->second;
}

std::optional<Challenge> parseChallenge(std::string_view header) {
  if (header.size() > kMaxHeader) return std::nullopt;
  std::size_t pos = 0;
  skipSpace(header, pos);
  Challenge challenge;
  challenge.scheme = asciiLower(readToken(header, pos));
  if (challenge.scheme.empty()) return std::nullopt;
  while (true) {
    skipSpace(header, pos);
    while (pos < header.size() && header[pos] == ',') {
      ++pos;
      skipSpace(header, pos);
    }
    if (pos >= header.size()) break;
    std::string name = asciiLower(readToken(header, pos));
    skipSpace(header, pos);
    if (name.empty() || pos >= header.size() || header[pos] != '=') return std::nullopt;
    ++pos;
    skipSpace(header, pos);
    std::string value;
    if (pos < header.size() && header[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < header.size()) {
        char c = header[pos++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && pos < header.size()) c = header[pos++];
        value += c;
      }
      if (!closed) return std::nullopt;
    } else {
      value = readToken(header, pos);
    }
    challenge.params[name] = value;
  }
  return challenge;
}

}  // namespace banger::image::oci
