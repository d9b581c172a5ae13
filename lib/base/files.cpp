#include "banger/files.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "banger/errors.h"

namespace banger {

std::optional<std::string> readTextFileIfExists(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    if (!std::filesystem::exists(file)) return std::nullopt;
    fail(ErrorCode::Failed, "cannot read " + file.string() + " (check its permissions)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string findExecutable(const std::string& program, const std::string& pathVariable) {
  if (program.empty()) return {};
  if (program.find('/') != std::string::npos) {
    return access(program.c_str(), X_OK) == 0 ? program : std::string();
  }
  size_t start = 0;
  while (start <= pathVariable.size()) {
    size_t end = pathVariable.find(':', start);
    if (end == std::string::npos) end = pathVariable.size();
    // Built with path::operator/ rather than string + (g++ 12 -Wrestrict false positive).
    const std::string dir = end > start ? pathVariable.substr(start, end - start) : ".";
    const std::string candidate = (std::filesystem::path(dir) / program).string();
    std::error_code ec;
    if (access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate, ec)) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

}  // namespace banger
