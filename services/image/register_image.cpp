#include "register_image.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "banger/errors.h"
#include "banger/ext4/subtree_export.h"
#include "banger/log.h"
#include "work_seed.h"

namespace banger::image {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void checkReadableFile(const std::string& option, const std::string& path) {
  if (path.empty() || path[0] != '/')
    fail(ErrorCode::InvalidArgument, option + " must be an absolute path, not '" + path + "'");
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0)
    fail(ErrorCode::InvalidArgument,
         option + " " + path + " cannot be read: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode))
    fail(ErrorCode::InvalidArgument, option + " " + path + " is not a regular file");
}

void copyRange(int in, int out, off_t start, off_t end, const std::string& what) {
  std::vector<char> buffer;
  off_t at = start;
  while (at < end) {
    const std::size_t want = static_cast<std::size_t>(std::min<off_t>(end - at, 8 << 20));
    loff_t inOffset = at, outOffset = at;
    ssize_t n = ::copy_file_range(in, &inOffset, out, &outOffset, want, 0);
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
      buffer.resize(1 << 20);
      n = ::pread(in, buffer.data(), std::min(want, buffer.size()), at);
      if (n > 0 && ::pwrite(out, buffer.data(), static_cast<std::size_t>(n), at) != n) n = -1;
    }
    if (n < 0) fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
    if (n == 0) fail(ErrorCode::Failed, what + ": the file shrank while it was copied");
    at += n;
  }
}

}  // namespace

void checkRegisterPaths(const RegisterRequest& request) {
  checkReadableFile("rootfs", request.rootfs);
  if (!request.kernelPath.empty()) checkReadableFile("kernel_path", request.kernelPath);
  if (!request.initrd.empty()) checkReadableFile("initrd", request.initrd);
}

void copySparse(const std::filesystem::path& from, const std::filesystem::path& to) {
  const std::string what = "copying " + from.string() + " to " + to.string();
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
  if (out.fd < 0) fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
  if (::ioctl(out.fd, FICLONE, in.fd) == 0) return;  // shares blocks: instant, no space used
  if (::ftruncate(out.fd, st.st_size) != 0)
    fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
  off_t at = 0;
  while (at < st.st_size) {
    off_t data = ::lseek(in.fd, at, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole is left
    if (data < 0) fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
    off_t hole = ::lseek(in.fd, data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    copyRange(in.fd, out.fd, data, std::min<off_t>(hole, st.st_size), what);
    at = hole;
  }
  if (::fsync(out.fd) != 0) fail(ErrorCode::Failed, what + ": " + std::strerror(errno));
}

ImageRecord runRegister(const RegisterRequest& request, ImageStore& store,
                        const ext4::BuildLimits& limits) {
  std::string why;
  if (!ext4::isExt4Image(request.rootfs, why)) fail(ErrorCode::InvalidArgument, "rootfs " + why);
  StagedImage staging(store);
  const std::filesystem::path rootfs = staging.dir() / ImageStore::kRootfsFile;
  copySparse(request.rootfs, rootfs);
  if (::chmod(rootfs.c_str(), 0444) != 0)
    fail(ErrorCode::Failed, "cannot make " + rootfs.string() + " read-only");
  buildWorkSeed(rootfs, staging.dir() / ImageStore::kWorkSeedFile, staging.dir() / "root.tar",
                WorkSeedOptions{.limits = limits});
  ImageRecord record{.name = request.name,
                     .id = staging.id(),
                     .source = "registered",
                     .reference = request.rootfs,
                     .kernel = request.kernel.empty() ? request.kernelPath : request.kernel,
                     .initrd = request.initrd,
                     .rootfsBytes = std::filesystem::file_size(rootfs),
                     .createdAtUs = nowMicroseconds()};
  staging.publish(record, false);
  log::info("registered " + request.rootfs + " as image " + request.name);
  return record;
}

}  // namespace banger::image
