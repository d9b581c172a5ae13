#include "login_banner.h"

#include <sys/stat.h>

#include "whole_file.h"

namespace banger::guest {

bool bootWritesDynamicMotd(const std::string& root) {
  struct stat updateScripts {};
  if (::lstat((root + "/etc/update-motd.d").c_str(), &updateScripts) == 0) return false;
  return readWholeFile(root + "/etc/pam.d/sshd").find(std::string("motd=") + kDynamicMotd) !=
         std::string::npos;
}

std::string unameLine(const struct utsname& name) {
  return std::string(name.sysname) + " " + name.nodename + " " + name.release + " " + name.version +
         " " + name.machine + "\n";
}

}  // namespace banger::guest
