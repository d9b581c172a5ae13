// Image1.Manager.Register: an ext4 rootfs the user already has becomes an image. The
// file is copied into the store (FICLONE where the filesystem shares blocks, else a
// sparse copy), so the user may change or delete theirs afterwards.
#pragma once

#include <filesystem>
#include <string>

#include "banger/ext4/image_builder.h"
#include "image_store.h"

namespace banger::image {

struct RegisterRequest {
  std::string name{};
  std::string rootfs{};
  std::string kernel{};      // a kernel name
  std::string kernelPath{};  // or a vmlinux file
  std::string initrd{};
};

// Quick checks, on the caller's thread: the paths are absolute and name regular files
// this user can read. Throws InvalidArgument naming the option and the path.
void checkRegisterPaths(const RegisterRequest& request);

// The slow part, on a worker: checks the rootfs is ext4, copies it, builds the work seed,
// publishes. Nothing is left behind on failure.
ImageRecord runRegister(const RegisterRequest& request, ImageStore& store,
                        const ext4::BuildLimits& limits);

// Copies `from` to the new file `to`: a reflink when possible, else only the data
// (holes stay holes). Throws Failed naming both.
void copySparse(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace banger::image
