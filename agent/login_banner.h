// The kernel line of the SSH login banner, where banger-init writes it (docs/guest.md).
// Debian's pam_motd shows /run/motd.dynamic and rewrites it at every login by running
// /etc/update-motd.d: five programs, on the path of a fresh VM's first command. banger's
// default image leaves that directory out; its one script printed `uname -snrvm`, which
// banger-init writes once per boot instead, so a login shows the same lines.
#pragma once

#include <sys/utsname.h>

#include <string>

namespace banger::guest {

inline constexpr const char* kDynamicMotd = "/run/motd.dynamic";

// Whether the image at `root` shows /run/motd.dynamic at SSH logins (its sshd PAM
// configuration names it) while nothing in it writes the file (no /etc/update-motd.d).
bool bootWritesDynamicMotd(const std::string& root);

// What `uname -snrvm` prints, newline included.
std::string unameLine(const struct utsname& name);

}  // namespace banger::guest
