#include "banger/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "banger/errors.h"
#include "banger/log.h"

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

namespace {

// False when something under `path` had to stay.
bool removeBelow(const std::filesystem::path& path, dev_t device,
                 std::vector<std::filesystem::path>& mountPoints) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != device) {
      mountPoints.push_back(path);
      return false;
    }
    bool emptied = true;
    std::error_code error;
    for (std::filesystem::directory_iterator it(path, error), end; !error && it != end;
         it.increment(error))
      emptied = removeBelow(it->path(), device, mountPoints) && emptied;
    if (error) {
      log::warning("cannot list " + path.string() + ": " + error.message());
      return false;
    }
    if (!emptied) return false;
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
  } else if (::unlink(path.c_str()) == 0 || errno == ENOENT) {
    return true;
  }
  log::warning("cannot remove " + path.string() + ": " + std::strerror(errno));
  return false;
}

}  // namespace

std::vector<std::filesystem::path> removeTreeOnThisFilesystem(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> mountPoints;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return mountPoints;
  if (S_ISDIR(st.st_mode)) {
    // The device of the directory's parent: `path` itself may be a mount point.
    struct stat parent {};
    const dev_t device =
        ::lstat(path.parent_path().c_str(), &parent) == 0 ? parent.st_dev : st.st_dev;
    removeBelow(path, device, mountPoints);
  } else {
    ::unlink(path.c_str());
  }
  return mountPoints;
}

void writeFileAtomically(const std::filesystem::path& file, std::string_view content, unsigned mode,
                         Durability durability) {
  // Built up in steps: GCC 12 at -O3 warns falsely (-Wrestrict) on "literal" + string&&.
  std::string name = ".";
  name += file.filename().string();
  name += ".tmp-";
  name += std::to_string(getpid());
  const std::filesystem::path temporary = file.parent_path() / name;
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    fail(ErrorCode::Failed, "cannot write " + file.string() + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && (durability == Durability::Regenerable || ::fsync(fd) == 0);
  const int err = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(temporary.c_str(), file.c_str()) != 0) {
    const int why = ok ? errno : err;
    ::unlink(temporary.c_str());
    fail(ErrorCode::Failed, "cannot write " + file.string() + ": " + std::strerror(why));
  }
}

}  // namespace banger
