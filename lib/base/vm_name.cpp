#include "banger/vm_name.h"

#include "banger/errors.h"

namespace banger {

std::string vmNameProblem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > kMaxVmName)
    return "it is " + std::to_string(name.size()) + " characters long, more than 63";
  if (name.front() < 'a' || name.front() > 'z') return "it must start with a lower-case letter";
  if (name.back() == '-') return "it must not end with '-'";
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) return "only lower-case letters, digits and '-' are allowed";
  }
  return {};
}

void requireVmName(std::string_view name) {
  if (auto problem = vmNameProblem(name); !problem.empty()) {
    // The name is quoted as printable text only: it may be anything a caller sent.
    std::string shown;
    for (const char c : name.substr(0, 80)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    fail(ErrorCode::InvalidArgument,
         "'" + shown + "' is not a VM name: " + problem + " (a VM name is also <name>.vm)");
  }
}

}  // namespace banger
