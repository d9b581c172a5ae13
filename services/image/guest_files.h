// banger's guest side on this host — banger-init and banger-agent (static), their units,
// the sshd drop-in and banger-first-boot, installed in <libexecdir>/banger/guest
// (BANGER_GUEST_DIR overrides it, as the other roots are) — which the Image service
// copies into every initrd and image it writes.
#pragma once

#include <filesystem>
#include <string>

#include "banger/paths.h"

namespace banger::image {

class GuestFiles {
 public:
  explicit GuestFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}
  static GuestFiles locate(const EnvLookup& env);

  // The binaries' bytes. Unavailable naming the path when one is missing (a broken
  // installation: reinstall banger).
  std::string init() const { return file("banger-init"); }
  std::string agent() const { return file("banger-agent"); }
  // Any file of the set (units, the sshd drop-in, banger-first-boot), by name.
  std::string file(const std::string& name) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace banger::image
