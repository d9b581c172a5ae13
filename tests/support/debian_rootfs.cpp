#include "debian_rootfs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "banger/files.h"
#include "banger/process.h"

#ifndef BANGER_BUILD_DIR
#error "BANGER_BUILD_DIR must name the build directory"
#endif

namespace banger::test {

std::optional<std::string> debianRootfsTar(std::string& why) {
  const std::filesystem::path tar =
      std::filesystem::path(BANGER_BUILD_DIR) / "debian-bookworm-rootfs.tar";
  if (std::filesystem::exists(tar)) return tar.string();
  if (geteuid() != 0) {
    why = "building a Debian rootfs with mmdebstrap needs root here";
    return std::nullopt;
  }
  if (findExecutable("mmdebstrap", getenv("PATH") ? getenv("PATH") : "").empty())
    throw std::runtime_error("mmdebstrap is not installed (scripts/install-deps.sh installs it)");
  // mmdebstrap picks its output format from the extension: keep ".tar" last.
  const std::string partial = (tar.parent_path() / "debian-bookworm-rootfs.partial.tar").string();
  Command build({"mmdebstrap", "--quiet", "--variant=minbase",
                 "--include=systemd-sysv,openssh-server,iproute2,ca-certificates,iputils-ping",
                 "bookworm", partial});
  build.timeout = std::chrono::minutes(10);
  ProcessResult result = SystemProcessRunner().run(build);
  if (!result.ok()) {
    std::filesystem::remove(partial);
    throw std::runtime_error("mmdebstrap failed: " + result.err);
  }
  std::filesystem::rename(partial, tar);
  return tar.string();
}

}  // namespace banger::test
