#include "banger/files.h"

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

}  // namespace banger
