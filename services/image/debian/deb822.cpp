#include "deb822.h"

#include <ctime>
#include <utility>

#include "banger/errors.h"
#include "banger/text.h"

namespace banger::image::debian {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// dpkg's weight of a non-digit character: '~' sorts before the end of the string, which
// sorts before letters, which sort before everything else.
int order(char c) {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c == '~') return -1;
  if (c) return c + 256;
  return 0;
}

int compareFragment(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int firstDiff = 0;
    while ((i < a.size() && !isDigit(a[i])) || (j < b.size() && !isDigit(b[j]))) {
      const int ac = order(i < a.size() ? a[i] : '\0'), bc = order(j < b.size() ? b[j] : '\0');
      if (ac != bc) return ac - bc;
      ++i, ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    while (i < a.size() && isDigit(a[i]) && j < b.size() && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a[i] - b[j];
      ++i, ++j;
    }
    if (i < a.size() && isDigit(a[i])) return 1;
    if (j < b.size() && isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

struct Version {
  unsigned long epoch = 0;
  std::string_view upstream, revision;
};

Version split(std::string_view text) {
  Version v;
  if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    for (const char c : text.substr(0, colon))
      v.epoch = v.epoch * 10 + static_cast<unsigned>(c - '0');
    text.remove_prefix(colon + 1);
  }
  if (const std::size_t dash = text.rfind('-'); dash != std::string_view::npos) {
    v.revision = text.substr(dash + 1);
    text = text.substr(0, dash);
  }
  v.upstream = text;
  return v;
}

[[noreturn]] void malformed(const std::string& what) {
  fail(ErrorCode::IntegrityError, "the Release file " + what);
}

}  // namespace

void forEachStanza(std::string_view text, const std::function<bool(std::string_view)>& onStanza) {
  while (!text.empty()) {
    while (text.starts_with('\n')) text.remove_prefix(1);
    if (text.empty()) return;
    const std::size_t end = text.find("\n\n");
    const std::string_view stanza =
        text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    if (!onStanza(stanza)) return;
    text.remove_prefix(stanza.size());
  }
}

std::optional<std::string> field(std::string_view stanza, std::string_view name) {
  std::size_t at = 0;
  while (at < stanza.size()) {
    const std::size_t lineEnd = std::min(stanza.find('\n', at), stanza.size());
    const std::string_view line = stanza.substr(at, lineEnd - at);
    at = lineEnd + 1;
    const std::size_t colon = line.find(':');
    if (line.empty() || line[0] == ' ' || line[0] == '\t' || colon != name.size() ||
        asciiLower(std::string(line.substr(0, colon))) != asciiLower(std::string(name)))
      continue;
    std::string value(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
      value.pop_back();
    while (at < stanza.size() && (stanza[at] == ' ' || stanza[at] == '\t')) {
      const std::size_t end = std::min(stanza.find('\n', at), stanza.size());
      std::string_view more = stanza.substr(at + 1, end - at - 1);
      if (!more.empty() && more.back() == '\r') more.remove_suffix(1);
      value += '\n';
      value += more == "." ? std::string_view() : more;
      at = end + 1;
    }
    return value;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parseReleaseDate(std::string_view text) {
  const std::string copy(text);
  std::tm parts{};
  const char* end = ::strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S", &parts);
  if (!end) return std::nullopt;
  const std::string_view zone = std::string_view(end);
  if (zone != " UTC" && zone != " GMT" && zone != " +0000" && zone != " Z") return std::nullopt;
  return static_cast<std::int64_t>(::timegm(&parts));
}

Release parseRelease(std::string_view text) {
  Release release;
  bool first = true;
  forEachStanza(text, [&](std::string_view stanza) {
    if (!std::exchange(first, false)) return false;
    release.suite = field(stanza, "Suite").value_or("");
    release.codename = field(stanza, "Codename").value_or("");
    const auto date = field(stanza, "Date");
    if (!date) malformed("has no Date");
    const auto parsed = parseReleaseDate(*date);
    if (!parsed) malformed("has a Date that is not an RFC 2822 UTC date: " + date->substr(0, 64));
    release.date = *parsed;
    if (const auto until = field(stanza, "Valid-Until")) {
      const auto validUntil = parseReleaseDate(*until);
      if (!validUntil) malformed("has a malformed Valid-Until: " + until->substr(0, 64));
      release.validUntil = *validUntil;
    }
    release.acquireByHash = field(stanza, "Acquire-By-Hash").value_or("") == "yes";
    const auto sums = field(stanza, "SHA256");
    if (!sums) malformed("has no SHA256 list");
    std::string_view rest = *sums;
    while (!rest.empty()) {
      const std::size_t newline = rest.find('\n');
      std::string_view line = rest.substr(0, newline);
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      IndexFile file;
      std::string_view words[3];
      for (auto& word : words) {
        line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
        const std::size_t space = std::min(line.find_first_of(" \t"), line.size());
        word = line.substr(0, space);
        line.remove_prefix(space);
      }
      const bool hexOk = words[0].size() == 64 &&
                         words[0].find_first_not_of("0123456789abcdef") == std::string_view::npos;
      if (!hexOk || words[1].empty() ||
          words[1].find_first_not_of("0123456789") != std::string_view::npos ||
          words[1].size() > 15 || words[2].empty())
        malformed("has a malformed SHA256 line");
      file.sha256 = words[0];
      file.size = std::stoull(std::string(words[1]));
      file.path = words[2];
      release.sha256.push_back(std::move(file));
    }
    return false;
  });
  if (release.sha256.empty()) malformed("lists no index files");
  return release;
}

bool isValidVersion(std::string_view version) {
  if (version.empty() || version.size() > 256) return false;
  const Version v = split(version);
  if (const std::size_t colon = version.find(':'); colon != std::string_view::npos) {
    if (colon == 0 || colon > 9) return false;
    for (const char c : version.substr(0, colon))
      if (!isDigit(c)) return false;
  }
  if (v.upstream.empty() || !isDigit(v.upstream[0])) return false;
  for (const char c : v.upstream)
    if (!isDigit(c) && !isAlpha(c) && std::string_view(".+~-:").find(c) == std::string_view::npos)
      return false;
  for (const char c : v.revision)
    if (!isDigit(c) && !isAlpha(c) && std::string_view(".+~").find(c) == std::string_view::npos)
      return false;
  return true;
}

int compareVersions(std::string_view a, std::string_view b) {
  const Version va = split(a), vb = split(b);
  if (va.epoch != vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  if (const int c = compareFragment(va.upstream, vb.upstream)) return c;
  return compareFragment(va.revision, vb.revision);
}

}  // namespace banger::image::debian
