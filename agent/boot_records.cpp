#include "boot_records.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "guest_layout.h"

namespace banger::guest {
namespace {

namespace fs = std::filesystem;

// utmp's fields are fixed arrays, NUL-terminated only when shorter than the field.
template <size_t N>
void fill(char (&field)[N], std::string_view text) {
  std::memcpy(field, text.data(), std::min(N, text.size()));
}

utmpx record(short type, std::string_view user, const std::string& kernelRelease,
             const timeval& when) {
  utmpx entry{};
  entry.ut_type = type;
  fill(entry.ut_user, user);
  fill(entry.ut_line, "~");
  fill(entry.ut_id, "~~");
  fill(entry.ut_host, kernelRelease);
  entry.ut_tv.tv_sec = static_cast<decltype(entry.ut_tv.tv_sec)>(when.tv_sec);
  entry.ut_tv.tv_usec = static_cast<decltype(entry.ut_tv.tv_usec)>(when.tv_usec);
  return entry;
}

std::string lastValueOf(const std::string& commandLine, std::string_view key) {
  std::istringstream words(commandLine);
  std::string word, value;
  while (words >> word)
    if (word.starts_with(key)) value = word.substr(key.size());
  return value;
}

}  // namespace

bool bootWritesRecords(const std::string& root) {
  struct stat dropIn {};
  const std::string path = root + "/etc/systemd/system/" + kRecordsUnit + ".d/" + kDoneAtBootDropIn;
  return ::lstat(path.c_str(), &dropIn) == 0;
}

std::optional<char> bootRunlevel(const std::string& root, const std::string& commandLine) {
  std::string unit = lastValueOf(commandLine, "systemd.unit=");
  if (unit.empty()) unit = "default.target";
  // An alias is a symlink named for it in one of the unit directories, first found wins.
  for (int hop = 0; hop < 8; ++hop) {
    std::error_code error;
    std::optional<fs::path> alias;
    for (const char* dir :
         {"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}) {
      const fs::path candidate = fs::path(root + dir) / unit;
      const fs::file_status status = fs::symlink_status(candidate, error);
      if (!fs::exists(status)) continue;
      if (fs::is_symlink(status)) alias = fs::read_symlink(candidate, error);
      break;
    }
    if (!alias || alias->filename().empty()) break;
    unit = alias->filename().string();
  }
  if (unit == "graphical.target") return '5';
  if (unit == "multi-user.target") return '3';
  if (unit == "rescue.target") return '1';
  return std::nullopt;
}

std::string tmpfilesKeepingUtmp(const std::string& systemdConf) {
  std::istringstream lines(systemdConf);
  std::string line, kept;
  bool changed = false;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string type, path;
    fields >> type >> path;
    if (path == kUtmp && type.starts_with('f') && type.find('+') != std::string::npos) {
      std::string creating = type;  // `f` alone creates the file where it is missing
      std::erase(creating, '+');
      line.replace(line.find(type), type.size(), creating);
      changed = true;
    }
    kept += line + "\n";
  }
  if (!changed) return "";
  return "# Written at boot by banger-init: the image's systemd.conf, with /run/utmp kept as\n"
         "# banger-init made it, holding the boot's records (docs/guest.md).\n" +
         kept;
}

void writeBootRecords(const std::string& utmp, const std::string& wtmp,
                      const std::string& kernelRelease, std::optional<char> runlevel,
                      const timeval& when) {
  const auto failed = [](const std::string& what, int error) {
    return std::runtime_error(what + ": " + std::strerror(error));
  };
  std::vector<utmpx> records{record(BOOT_TIME, "reboot", kernelRelease, when)};
  if (runlevel) {
    records.push_back(record(RUN_LVL, "runlevel", kernelRelease, when));
    records.back().ut_pid = *runlevel;  // the previous runlevel (the high byte) is none
  }
  // Made 0664 whatever the umask, as tmpfiles.d has it.
  if (const int fd = ::open(utmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) {
    const int mode = ::fchmod(fd, 0664), error = errno;
    ::close(fd);
    if (mode != 0) throw failed(utmp, error);
  } else if (errno != EEXIST) {
    throw failed(utmp, errno);
  }
  if (::utmpxname(utmp.c_str()) != 0) throw failed(utmp, errno);
  ::setutxent();
  for (const utmpx& entry : records)
    if (::pututxline(&entry) == nullptr) {
      const int error = errno;
      ::endutxent();
      throw failed(utmp, error);
    }
  ::endutxent();
  // Like every writer of wtmp, only where the image has one: it is the image's to keep.
  if (::access(wtmp.c_str(), W_OK) != 0) {
    if (errno == ENOENT) return;
    throw failed(wtmp, errno);
  }
  for (const utmpx& entry : records) ::updwtmpx(wtmp.c_str(), &entry);
}

}  // namespace banger::guest
