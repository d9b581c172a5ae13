// The boot's records in utmp and wtmp (`who -b`, `who -r`, `runlevel`, `last reboot`),
// which banger-init writes (docs/guest.md). In systemd images two units write them by
// starting a program each, and every program systemd starts is a fork of PID 1: in the
// simulator those two and systemd-user-sessions cost about 50 ms of a `vm run`, beside the
// first SSH login. banger's image layer makes two of them start without a program and masks
// the runlevel one (guest_layout.h); banger-init writes the records before systemd runs,
// and what the units do at shutdown stays theirs.
#pragma once

#include <sys/time.h>

#include <optional>
#include <string>

namespace banger::guest {

inline constexpr const char* kUtmp = "/run/utmp";
inline constexpr const char* kWtmp = "/var/log/wtmp";                               // in the image
inline constexpr const char* kVendorTmpfiles = "/usr/lib/tmpfiles.d/systemd.conf";  // in the image
inline constexpr const char* kAdminTmpfiles = "/etc/tmpfiles.d/systemd.conf";       // in the image
inline constexpr const char* kRuntimeTmpfiles = "/run/tmpfiles.d/systemd.conf";

// Whether banger-init writes the records for the image at `root`: where banger's layer has
// taken them from systemd-update-utmp.service. Another image's own init writes them.
bool bootWritesRecords(const std::string& root);

// The SysV runlevel of the target this boot heads for, as systemd-update-utmp maps it:
// graphical.target 5, multi-user.target 3, rescue.target 1. The target is `systemd.unit=`
// on the kernel command line, else the image's default.target, its aliases followed
// (runlevel3.target is multi-user.target). Any other target has none.
std::optional<char> bootRunlevel(const std::string& root, const std::string& commandLine);

// systemd's own tmpfiles.d line for /run/utmp (`f+!` in systemd.conf) empties it early in
// every boot, after banger-init wrote the records. Given the image's systemd.conf, the same
// text with that line only creating the file where it is missing; empty where no line
// empties it. banger-init writes it to /run/tmpfiles.d/systemd.conf, which takes the
// vendor file's place for this boot only, so it follows the image's systemd when updated.
std::string tmpfilesKeepingUtmp(const std::string& systemdConf);

// The boot record (and the runlevel record, given one) at `when`, as systemd-update-utmp
// writes them: into `utmp`, made 0664 when missing (systemd-tmpfiles gives it its group),
// and appended to `wtmp` where that exists. A failure throws std::runtime_error naming
// the file.
void writeBootRecords(const std::string& utmp, const std::string& wtmp,
                      const std::string& kernelRelease, std::optional<char> runlevel,
                      const timeval& when);

}  // namespace banger::guest
