// Reads one directory of an ext4 image with libext2fs (no mount) and hands it to a
// TreeSink, its entries relative to that directory ("./", "./.bashrc", ...): how an
// image's /root becomes its work seed, and the seed a VM's work disk. Directories, regular files
// and symlinks are copied with owner, mode and mtime; hard links become copies; devices, FIFOs and
// sockets are left out (counted). The image may be any ext4 a user registered, so depth, entries
// and bytes are bounded and a directory cycle cannot loop.
#pragma once

#include <cstdint>
#include <string>

#include "banger/ext4/tree_sink.h"

namespace banger::ext4 {

struct ExportLimits {
  std::uint64_t maxBytes = 64ull << 30;
  std::uint64_t maxEntries = 2'000'000;
  unsigned maxDepth = 256;
};

struct ExportStats {
  bool found = false;  // the directory exists (and is a directory)
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t leftOut = 0;  // devices, FIFOs, sockets
};

// Throws InvalidArgument naming the image when it is not an ext4 filesystem libext2fs can
// open, or when a limit is passed; Failed for I/O errors.
ExportStats exportSubtree(const std::string& image, const std::string& directory, TreeSink& out,
                          const ExportLimits& limits);

// Whether libext2fs opens `image` as an ext2/3/4 filesystem; the reason when not.
bool isExt4Image(const std::string& image, std::string& why);

}  // namespace banger::ext4
