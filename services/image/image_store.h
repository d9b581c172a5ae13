// Where images live: ~/.local/state/banger/image/ holds image.db (the records),
// images/<id>/{rootfs.ext4,work-seed.ext4} and kernels/<id>/{vmlinux,initrd.img}. An image is built
// in staging/<id>/, renamed into images/ when complete, and only then recorded (DESIGN §4); a
// delete removes the record first. So a crash at any step leaves either nothing or a directory no
// record names, and opening the store sweeps those away. An exclusive lock on the directory keeps a
// second service instance from sweeping what the first is building.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "banger/sqlite.h"
#include "image_record.h"
#include "kernel_record.h"

namespace banger::image {

class ImageStore {
 public:
  // Throws Busy when another instance holds the store.
  explicit ImageStore(std::filesystem::path root);
  ~ImageStore();
  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;

  std::vector<ImageRecord> all();
  std::optional<ImageRecord> find(const std::string& name);

  // Moves staging/<id> to images/<id> and records it (replacing the record of the same
  // name, which is returned; its files are the caller's to remove with removeFiles).
  // Throws AlreadyExists when the name is taken and `replace` is false; then nothing moves.
  std::optional<ImageRecord> publish(const ImageRecord& record, bool replace);
  // Removes the record; returns it (its files are still there).
  std::optional<ImageRecord> remove(const std::string& name);
  void removeFiles(const std::string& id);

  std::vector<KernelRecord> kernels();
  std::optional<KernelRecord> findKernel(const std::string& name);
  // Moves staging/<id> to kernels/<id> and records it, as publish() does for images.
  std::optional<KernelRecord> publishKernel(const KernelRecord& record, bool replace);
  // Removes the record and returns it; Busy naming the images that use the kernel.
  std::optional<KernelRecord> removeKernel(const std::string& name);
  void removeKernelFiles(const std::string& id);

  std::filesystem::path rootfsPath(const std::string& id) const;
  std::filesystem::path workSeedPath(const std::string& id) const;
  std::filesystem::path stagingDir(const std::string& id) const;
  static constexpr const char* kRootfsFile = "rootfs.ext4";
  static constexpr const char* kWorkSeedFile = "work-seed.ext4";
  std::filesystem::path vmlinuxPath(const std::string& id) const;
  std::filesystem::path initrdPath(const std::string& id) const;
  static constexpr const char* kVmlinuxFile = "vmlinux";
  static constexpr const char* kInitrdFile = "initrd.img";

 private:
  friend class StagedImage;
  std::filesystem::path stage(std::string& id);  // a fresh staging dir and its id
  void discardStaging(const std::string& id);
  std::optional<ImageRecord> findLocked(const std::string& name);  // mutex_ held
  std::optional<KernelRecord> findKernelLocked(const std::string& name);
  // Moves staging/<id> to <dir>/<id>, then runs `insert` and commits; on failure the
  // directory goes back to staging (mutex_ held, inside `transaction`).
  void moveIntoPlace(const std::string& id, const char* dir, Statement& insert,
                     Transaction& transaction);
  void sweep();
  void sweepUnrecorded(const std::string& dir, const std::vector<std::string>& ids);

  std::filesystem::path root_;
  int lockFd_ = -1;
  std::mutex mutex_;  // the pool's workers publish, the loop thread deletes
  Database db_;
};

// A new image's directory under staging/, removed when this goes out of scope unless
// the image was published: a failed, canceled or interrupted build leaves nothing.
class StagedImage {
 public:
  explicit StagedImage(ImageStore& store) : store_(store) { dir_ = store_.stage(id_); }
  ~StagedImage() {
    if (!published_) store_.discardStaging(id_);
  }
  StagedImage(const StagedImage&) = delete;
  StagedImage& operator=(const StagedImage&) = delete;

  const std::string& id() const { return id_; }
  const std::filesystem::path& dir() const { return dir_; }
  // ImageStore::publish of `record`, whose id must be this one's.
  std::optional<ImageRecord> publish(const ImageRecord& record, bool replace) {
    auto replaced = store_.publish(record, replace);
    published_ = true;
    return replaced;
  }
  std::optional<KernelRecord> publish(const KernelRecord& record, bool replace) {
    auto replaced = store_.publishKernel(record, replace);
    published_ = true;
    return replaced;
  }

 private:
  ImageStore& store_;
  std::string id_;
  std::filesystem::path dir_;
  bool published_ = false;
};

}  // namespace banger::image
