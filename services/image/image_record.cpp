#include "image_record.h"

#include <chrono>

#include "banger/errors.h"

namespace banger::image {
namespace {
bool nameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool nameChar(char c) { return nameStart(c) || c == '.' || c == '_' || c == '-'; }
}  // namespace

std::uint64_t nowMicroseconds() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string imageNameProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxImageName)
    return "is longer than " + std::to_string(kMaxImageName) + " characters";
  if (!nameStart(name[0])) return "must start with a lower-case letter or a digit";
  for (char c : name)
    if (!nameChar(c)) return "may hold only lower-case letters, digits, '.', '_' and '-'";
  return {};
}

void requireImageName(std::string_view name) {
  std::string problem = imageNameProblem(name);
  if (!problem.empty())
    fail(ErrorCode::InvalidArgument,
         "image name '" + std::string(name.substr(0, 80)) + "' " + problem);
}

std::string defaultImageName(std::string_view repository, std::string_view tag,
                             std::string_view digest) {
  std::string_view last = repository.substr(repository.rfind('/') + 1);
  std::string name(last);
  if (!digest.empty()) {
    name += "-";
    name += digest.substr(digest.find(':') + 1, 12);
  } else if (!tag.empty() && tag != "latest") {
    name += "-";
    for (char c : tag) {
      const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      name += nameChar(lower) ? lower : '-';
    }
  }
  if (name.size() > kMaxImageName) name.resize(kMaxImageName);
  return name;
}

}  // namespace banger::image
