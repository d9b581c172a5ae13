// A VM name is a DNS label, since it is also `<name>.vm` (DESIGN §3): 1-63 characters of
// lower-case letters, digits and '-', starting with a letter and not ending with '-'.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace banger {

inline constexpr size_t kMaxVmName = 63;

// Why `name` is not a VM name ("" when it is one), in words a user can act on.
std::string vmNameProblem(std::string_view name);
inline bool isVmName(std::string_view name) { return vmNameProblem(name).empty(); }
// Throws banger::Error(InvalidArgument) naming the name and the rule it breaks.
void requireVmName(std::string_view name);

}  // namespace banger
