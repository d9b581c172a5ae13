#include "guest_files.h"

#include <fstream>
#include <sstream>

#include "banger/errors.h"
#include "banger_build_config.h"

namespace banger::image {

GuestFiles GuestFiles::locate(const EnvLookup& env) {
  return GuestFiles(env("BANGER_GUEST_DIR").value_or(BANGER_GUEST_DIR));
}

std::string GuestFiles::file(const std::string& name) const {
  const std::filesystem::path path = dir_ / name;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in || bytes.str().empty())
    fail(ErrorCode::Unavailable, path.string() +
                                     " is missing or unreadable: banger's guest binaries are not "
                                     "installed (reinstall banger)");
  return bytes.str();
}

}  // namespace banger::image
