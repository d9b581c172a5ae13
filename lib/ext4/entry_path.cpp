#include "banger/ext4/entry_path.h"

#include "banger/errors.h"

namespace banger::ext4 {

bool splitEntryPath(std::string_view path, std::vector<std::string_view>& components,
                    std::string& problem) {
  components.clear();
  if (path.size() > kMaxPathBytes) {
    problem = "path is " + std::to_string(path.size()) + " bytes, over the limit of " +
              std::to_string(kMaxPathBytes);
    return false;
  }
  if (path.find('\0') != std::string_view::npos) {
    problem = "path contains a NUL byte";
    return false;
  }
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      problem = "path has a '..' component";
      return false;
    }
    if (part.size() > kMaxNameBytes) {
      problem = "a name in the path is " + std::to_string(part.size()) +
                " bytes, over the ext4 limit of " + std::to_string(kMaxNameBytes);
      return false;
    }
    components.push_back(part);
  }
  return true;
}

std::vector<std::string_view> requireEntryPath(std::string_view path, std::string_view what) {
  std::vector<std::string_view> components;
  std::string problem;
  if (!splitEntryPath(path, components, problem))
    fail(ErrorCode::InvalidArgument,
         std::string(what) + " '" + std::string(path.substr(0, 200)) + "': " + problem);
  return components;
}

std::string joinPath(const std::vector<std::string_view>& components) {
  std::string joined;
  for (auto part : components) {
    joined += '/';
    joined += part;
  }
  return joined.empty() ? "/" : joined;
}

}  // namespace banger::ext4
