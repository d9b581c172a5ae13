#include "introspection.h"

#include <algorithm>
#include <regex>

namespace banger::test {
namespace {
std::map<std::string, std::string> attributes(const std::string& text) {
  static const std::regex attr(R"re((\w+)="([^"]*)")re");
  std::map<std::string, std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), attr), end; it != end; ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}
}  // namespace

std::map<std::string, std::vector<std::string>> interfaceMembers(const std::string& xml) {
  static const std::regex comment(R"(<!--[\s\S]*?-->)");
  const std::string clean = std::regex_replace(xml, comment, "");
  static const std::regex tag(R"(<(/?)(interface|method|signal|property|arg)\b([^>]*?)(/?)>)");
  std::map<std::string, std::vector<std::string>> out;
  std::string interface, member;
  bool inMember = false;
  for (std::sregex_iterator it(clean.begin(), clean.end(), tag), end; it != end; ++it) {
    const bool closing = (*it)[1] == "/";
    const bool selfClosing = (*it)[4] == "/";
    const std::string kind = (*it)[2];
    auto attrs = attributes((*it)[3]);
    if (kind == "interface") {
      interface = closing ? "" : attrs["name"];
      if (!closing) out[interface];
      continue;
    }
    if (kind == "arg") {
      const std::string dir = attrs.count("direction")
                                  ? attrs["direction"]
                                  : (member.rfind("signal", 0) == 0 ? "" : "in");
      // Appended piece by piece: `"literal" + std::string` trips GCC 12's -Wrestrict at -O3.
      member.append(" ").append(dir).append(dir.empty() ? "" : " ");
      member.append(attrs["type"]).append(" ").append(attrs["name"]).append(";");
      continue;
    }
    if (closing) {
      if (inMember) out[interface].push_back(member);
      inMember = false;
      continue;
    }
    if (kind == "property") {
      out[interface].push_back("property " + attrs["name"] + " " + attrs["type"] + " " +
                               attrs["access"]);
      continue;
    }
    member = kind + " " + attrs["name"] + ":";
    if (selfClosing) {
      out[interface].push_back(member);
    } else {
      inMember = true;
    }
  }
  for (auto& [name, members] : out) std::sort(members.begin(), members.end());
  return out;
}

}  // namespace banger::test
