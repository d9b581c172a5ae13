#include "image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/log.h"

namespace banger::image {
namespace {

const std::vector<Migration> kMigrations = {
    {1,
     "CREATE TABLE image ("
     "  name TEXT PRIMARY KEY,"
     "  id TEXT NOT NULL UNIQUE,"
     "  source TEXT NOT NULL,"
     "  reference TEXT NOT NULL,"
     "  digest TEXT NOT NULL,"
     "  kernel TEXT NOT NULL,"
     "  initrd TEXT NOT NULL,"
     "  rootfs_bytes INTEGER NOT NULL,"
     "  created_at INTEGER NOT NULL);"},
    {2,
     "CREATE TABLE kernel ("
     "  name TEXT PRIMARY KEY,"
     "  id TEXT NOT NULL UNIQUE,"
     "  version TEXT NOT NULL,"
     "  source TEXT NOT NULL,"
     "  reference TEXT NOT NULL,"
     "  has_initrd INTEGER NOT NULL,"
     "  pvh INTEGER NOT NULL,"
     "  modules TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL);"},
};

constexpr const char* kColumns =
    "SELECT name, id, source, reference, digest, kernel, initrd, rootfs_bytes, created_at "
    "FROM image";

ImageRecord recordFrom(Statement& s) {
  return ImageRecord{s.columnText(0),
                     s.columnText(1),
                     s.columnText(2),
                     s.columnText(3),
                     s.columnText(4),
                     s.columnText(5),
                     s.columnText(6),
                     static_cast<std::uint64_t>(s.columnInt(7)),
                     static_cast<std::uint64_t>(s.columnInt(8))};
}

std::string randomId() {
  unsigned char bytes[12];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    fail(ErrorCode::Failed, std::string("getrandom: ") + std::strerror(errno));
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

std::filesystem::path prepare(const std::filesystem::path& root) {
  std::filesystem::create_directories(root / "images");
  std::filesystem::create_directories(root / "kernels");
  std::filesystem::create_directories(root / "staging");
  return root / "image.db";
}

int lockStore(const std::filesystem::path& root) {
  std::filesystem::create_directories(root);
  const std::filesystem::path file = root / "lock";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) fail(ErrorCode::Failed, "cannot open " + file.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    fail(ErrorCode::Busy, "another banger-image holds " + root.string());
  }
  return fd;
}

void removeTree(const std::filesystem::path& path) {
  for (const auto& mountPoint : removeTreeOnThisFilesystem(path))
    log::warning("left " + mountPoint.string() +
                 ": something is mounted there (an interrupted mmdebstrap?); unmount it and "
                 "remove the directory");
}

}  // namespace

ImageStore::ImageStore(std::filesystem::path root)
    : root_(std::move(root)), lockFd_(lockStore(root_)), db_(prepare(root_), kMigrations) {
  sweep();
}

ImageStore::~ImageStore() {
  if (lockFd_ >= 0) ::close(lockFd_);
}

void ImageStore::sweep() {
  for (const auto& entry : std::filesystem::directory_iterator(root_ / "staging")) {
    log::info("removing " + entry.path().string() + ", left by an interrupted pull");
    removeTree(entry.path());
  }
  std::vector<std::string> ids;
  for (const auto& record : all()) ids.push_back(record.id);
  sweepUnrecorded("images", ids);
  ids.clear();
  for (const auto& record : kernels()) ids.push_back(record.id);
  sweepUnrecorded("kernels", ids);
}

void ImageStore::sweepUnrecorded(const std::string& dir, const std::vector<std::string>& ids) {
  for (const auto& entry : std::filesystem::directory_iterator(root_ / dir)) {
    const std::string id = entry.path().filename().string();
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
    log::info("removing " + entry.path().string() + ", which no record names");
    removeTree(entry.path());
  }
}

std::vector<ImageRecord> ImageStore::all() {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare(std::string(kColumns) + " ORDER BY name");
  std::vector<ImageRecord> out;
  while (s.step()) out.push_back(recordFrom(s));
  return out;
}

std::optional<ImageRecord> ImageStore::find(const std::string& name) {
  std::lock_guard lock(mutex_);
  return findLocked(name);
}

std::optional<ImageRecord> ImageStore::findLocked(const std::string& name) {
  auto s = db_.prepare(std::string(kColumns) + " WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return recordFrom(s);
}

std::filesystem::path ImageStore::stage(std::string& id) {
  id = randomId();
  std::filesystem::path dir = stagingDir(id);
  std::filesystem::create_directory(dir);
  return dir;
}

std::optional<ImageRecord> ImageStore::publish(const ImageRecord& record, bool replace) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  const std::optional<ImageRecord> old = findLocked(record.name);
  if (old && !replace)
    fail(ErrorCode::AlreadyExists,
         "an image named " + record.name + " exists (pass force to replace it)");
  if (old) {
    auto s = db_.prepare("DELETE FROM image WHERE name = ?");
    s.bind(1, record.name).run();
  }
  auto s = db_.prepare(
      "INSERT INTO image (name, id, source, reference, digest, kernel, initrd, rootfs_bytes, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, record.name)
      .bind(2, record.id)
      .bind(3, record.source)
      .bind(4, record.reference)
      .bind(5, record.digest)
      .bind(6, record.kernel)
      .bind(7, record.initrd)
      .bind(8, static_cast<int64_t>(record.rootfsBytes))
      .bind(9, static_cast<int64_t>(record.createdAtUs));
  moveIntoPlace(record.id, "images", s, transaction);
  return old;
}

void ImageStore::moveIntoPlace(const std::string& id, const char* dir, Statement& insert,
                               Transaction& transaction) {
  // The files move first: a record never names a directory that is not there.
  std::filesystem::rename(stagingDir(id), root_ / dir / id);
  try {
    insert.run();
    transaction.commit();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::rename(root_ / dir / id, stagingDir(id), ignored);
    throw;
  }
}

std::optional<ImageRecord> ImageStore::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  const std::optional<ImageRecord> old = findLocked(name);
  if (!old) return std::nullopt;
  auto s = db_.prepare("DELETE FROM image WHERE name = ?");
  s.bind(1, name).run();
  transaction.commit();
  return old;
}

void ImageStore::removeFiles(const std::string& id) { removeTree(root_ / "images" / id); }
void ImageStore::removeKernelFiles(const std::string& id) { removeTree(root_ / "kernels" / id); }
void ImageStore::discardStaging(const std::string& id) { removeTree(stagingDir(id)); }

std::filesystem::path ImageStore::rootfsPath(const std::string& id) const {
  return root_ / "images" / id / kRootfsFile;
}
std::filesystem::path ImageStore::workSeedPath(const std::string& id) const {
  return root_ / "images" / id / kWorkSeedFile;
}
std::filesystem::path ImageStore::stagingDir(const std::string& id) const {
  return root_ / "staging" / id;
}

}  // namespace banger::image
