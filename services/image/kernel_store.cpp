// ImageStore's kernels: the kernel table and kernels/<id>/, with the same order of
// steps as images (files first, then the record; the record goes first on delete).
#include "banger/errors.h"
#include "image_store.h"

namespace banger::image {
namespace {

constexpr const char* kKernelColumns =
    "SELECT name, id, version, source, reference, has_initrd, pvh, modules, created_at "
    "FROM kernel";

KernelRecord kernelFrom(Statement& s) {
  return KernelRecord{
      s.columnText(0),     s.columnText(1), s.columnText(2),
      s.columnText(3),     s.columnText(4), s.columnInt(5) != 0,
      s.columnInt(6) != 0, s.columnText(7), static_cast<std::uint64_t>(s.columnInt(8))};
}

}  // namespace

void requireKernelName(const std::string& name) {
  const std::string problem = imageNameProblem(name);
  if (!problem.empty())
    fail(ErrorCode::InvalidArgument, "kernel name '" + name.substr(0, 80) + "' " + problem);
}

std::vector<KernelRecord> ImageStore::kernels() {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare(std::string(kKernelColumns) + " ORDER BY name");
  std::vector<KernelRecord> out;
  while (s.step()) out.push_back(kernelFrom(s));
  return out;
}

std::optional<KernelRecord> ImageStore::findKernel(const std::string& name) {
  std::lock_guard lock(mutex_);
  return findKernelLocked(name);
}

std::optional<KernelRecord> ImageStore::findKernelLocked(const std::string& name) {
  auto s = db_.prepare(std::string(kKernelColumns) + " WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return kernelFrom(s);
}

std::optional<KernelRecord> ImageStore::publishKernel(const KernelRecord& record, bool replace) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  const std::optional<KernelRecord> old = findKernelLocked(record.name);
  if (old && !replace)
    fail(ErrorCode::AlreadyExists,
         "a kernel named " + record.name + " exists (pass force to replace it)");
  if (old) db_.prepare("DELETE FROM kernel WHERE name = ?").bind(1, record.name).run();
  auto s = db_.prepare(
      "INSERT INTO kernel (name, id, version, source, reference, has_initrd, pvh, modules, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, record.name)
      .bind(2, record.id)
      .bind(3, record.version)
      .bind(4, record.source)
      .bind(5, record.reference)
      .bind(6, int64_t{record.hasInitrd})
      .bind(7, int64_t{record.pvh})
      .bind(8, record.modules)
      .bind(9, static_cast<int64_t>(record.createdAtUs));
  moveIntoPlace(record.id, "kernels", s, transaction);
  return old;
}

std::optional<KernelRecord> ImageStore::removeKernel(const std::string& name) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  const std::optional<KernelRecord> old = findKernelLocked(name);
  if (!old) return std::nullopt;
  auto users = db_.prepare("SELECT name FROM image WHERE kernel = ? ORDER BY name");
  users.bind(1, name);
  std::string images;
  while (users.step()) images += (images.empty() ? "" : ", ") + users.columnText(0);
  if (!images.empty())
    fail(ErrorCode::Busy, "kernel " + name + " is used by image " + images +
                              "; delete those images first, or pull them with another kernel");
  db_.prepare("DELETE FROM kernel WHERE name = ?").bind(1, name).run();
  transaction.commit();
  return old;
}

std::filesystem::path ImageStore::vmlinuxPath(const std::string& id) const {
  return root_ / "kernels" / id / kVmlinuxFile;
}
std::filesystem::path ImageStore::initrdPath(const std::string& id) const {
  return root_ / "kernels" / id / kInitrdFile;
}

}  // namespace banger::image
