// Reduces introspection XML to comparable lines: for each interface, its members with
// argument names, types and directions, and its properties with type and access.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace banger::test {

// interface name → sorted member descriptions. Annotations and comments are ignored.
std::map<std::string, std::vector<std::string>> interfaceMembers(const std::string& xml);

}  // namespace banger::test
