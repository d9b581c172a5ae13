#include "oci/reference.h"

#include "banger/errors.h"

namespace banger::image::oci {
namespace {

constexpr std::size_t kMaxReference = 255;
constexpr std::size_t kMaxTag = 128;

bool lowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A repository path component: lower-case letters and digits, separated by '.', '_',
// "__" or runs of '-' (distribution's grammar).
bool validComponent(std::string_view part) {
  if (part.empty() || !lowerAlnum(part.front()) || !lowerAlnum(part.back())) return false;
  for (std::size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (lowerAlnum(c) || c == '-') continue;
    if (c == '.' || c == '_') {
      bool doubled = c == '_' && i + 1 < part.size() && part[i + 1] == '_';
      if (doubled) ++i;
      if (!lowerAlnum(part[i + 1])) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool validTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTag || tag.front() == '.' || tag.front() == '-') return false;
  for (char c : tag)
    if (!(lowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

bool validHost(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host)
    if (!(lowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':' || c == '[' ||
          c == ']'))
      return false;
  return true;
}

// Built by appending: GCC 12's -Wrestrict misfires on "literal" + std::string&& at -O3.
std::string quoted(std::string_view text) {
  std::string out(1, '\'');
  out += text;
  out += '\'';
  return out;
}

[[noreturn]] void refuse(std::string_view text, const std::string& why) {
  std::string message = "image reference ";
  message += quoted(text.substr(0, 300));
  message += ": ";
  message += why;
  fail(ErrorCode::InvalidArgument, message);
}

}  // namespace

bool isSha256Digest(std::string_view digest) {
  if (digest.size() != 71 || !digest.starts_with("sha256:")) return false;
  for (char c : digest.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string Reference::canonical() const {
  std::string name = registry + "/" + repository;
  return digest.empty() ? name + ":" + tag : name + "@" + digest;
}

Reference parseReference(std::string_view text) {
  if (text.empty()) refuse(text, "it is empty");
  if (text.size() > kMaxReference)
    refuse(text, "it is over " + std::to_string(kMaxReference) + " characters");
  Reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!ref.digest.starts_with("sha256:")) refuse(text, "only sha256 digests are supported");
    if (!isSha256Digest(ref.digest))
      refuse(text, "a digest is sha256: and 64 lower-case hex digits");
  }
  // The first component is a registry when it looks like a host: a '.', a ':' or localhost.
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      if (!validHost(first)) refuse(text, quoted(first) + " is not a registry host");
      ref.registry = std::string(first);
      rest = rest.substr(slash + 1);
    }
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!validTag(ref.tag)) refuse(text, quoted(ref.tag) + " is not a valid tag");
  }
  if (ref.tag.empty()) ref.tag = "latest";
  if (rest.empty()) refuse(text, "it names no repository");
  for (std::size_t pos = 0; pos <= rest.size();) {
    std::size_t slash = rest.find('/', pos);
    if (slash == std::string_view::npos) slash = rest.size();
    if (!validComponent(rest.substr(pos, slash - pos)))
      refuse(text, quoted(rest) +
                       " is not a repository name (lower-case letters, digits, '.', '_', '-')");
    pos = slash + 1;
  }
  ref.repository = std::string(rest);
  if (ref.registry.empty() || ref.registry == "index.docker.io") ref.registry = "docker.io";
  if (ref.registry == "docker.io") {
    ref.apiHost = "registry-1.docker.io";
    if (ref.repository.find('/') == std::string::npos) ref.repository = "library/" + ref.repository;
  } else {
    ref.apiHost = ref.registry;
  }
  return ref;
}

}  // namespace banger::image::oci
