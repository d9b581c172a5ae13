#include "oci/blob_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "banger/errors.h"
#include "oci/reference.h"
#include "oci/sha256.h"

namespace banger::image::oci {
namespace {

std::atomic<unsigned> temporaryCounter{0};

class TemporaryFile {
 public:
  explicit TemporaryFile(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0)
      fail(ErrorCode::Failed, "cannot create " + path_.string() + ": " + std::strerror(errno));
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        fail(ErrorCode::Failed, "cannot write " + path_.string() + ": " + std::strerror(errno));
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void publishAs(const std::filesystem::path& target) {
    if (::fsync(fd_) != 0)
      fail(ErrorCode::Failed, "fsync " + path_.string() + ": " + std::strerror(errno));
    std::filesystem::rename(path_, target);
    kept_ = true;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool kept_ = false;
};

}  // namespace

BlobCache::BlobCache(std::filesystem::path root) : blobs_(std::move(root) / "blobs" / "sha256") {}

std::filesystem::path BlobCache::pathOf(const std::string& digest) const {
  if (!isSha256Digest(digest))
    fail(ErrorCode::InvalidArgument, "not a sha256 digest: " + digest.substr(0, 80));
  return blobs_ / digest.substr(7);
}

void BlobCache::removePartials() const {
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator(blobs_, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (it->path().filename().string().find(".partial-") == std::string::npos) continue;
    std::error_code ignored;
    std::filesystem::remove(it->path(), ignored);
  }
}

bool BlobCache::has(const Descriptor& blob) const {
  std::error_code error;
  auto size = std::filesystem::file_size(pathOf(blob.digest), error);
  return !error && size == blob.size;
}

std::filesystem::path BlobCache::ensure(const Descriptor& blob, const std::string& what,
                                        const Fetch& fetch,
                                        const std::function<void(std::uint64_t)>& progress) {
  if (has(blob)) {
    if (progress) progress(blob.size);
    return pathOf(blob.digest);
  }
  return store(blob.digest, blob.size, blob.size, what, fetch, progress);
}

std::filesystem::path BlobCache::ensureUnsized(const std::string& digest, std::uint64_t maxBytes,
                                               const std::string& what, const Fetch& fetch,
                                               const std::function<void(std::uint64_t)>& progress) {
  std::error_code error;
  if (std::filesystem::is_regular_file(pathOf(digest), error)) return pathOf(digest);
  return store(digest, std::nullopt, maxBytes, what, fetch, progress);
}

std::filesystem::path BlobCache::store(const std::string& digest, std::optional<std::uint64_t> size,
                                       std::uint64_t maxBytes, const std::string& what,
                                       const Fetch& fetch,
                                       const std::function<void(std::uint64_t)>& progress) {
  std::filesystem::path target = pathOf(digest);
  std::filesystem::create_directories(blobs_);
  // A name of its own per download: two pulls of one blob both write, the renames agree.
  TemporaryFile partial(target.string() + ".partial-" + std::to_string(::getpid()) + "-" +
                        std::to_string(temporaryCounter++));
  Sha256 hash;
  std::uint64_t received = 0;
  fetch([&](std::string_view chunk) {
    received += chunk.size();
    if (received > maxBytes)
      fail(ErrorCode::IntegrityError,
           what + ": blob " + digest + " is longer than the " + std::to_string(maxBytes) +
               (size ? " bytes its descriptor states" : " bytes allowed"));
    hash.update(chunk);
    partial.write(chunk);
    if (progress) progress(chunk.size());
  });
  std::string actual = hash.digest();
  if ((size && received != *size) || actual != digest)
    fail(ErrorCode::IntegrityError, what + ": blob " + digest + " arrived as " +
                                        std::to_string(received) + " bytes with digest " + actual +
                                        "; nothing was kept");
  partial.publishAs(target);
  return target;
}

}  // namespace banger::image::oci
