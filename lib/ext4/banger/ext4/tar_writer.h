// Writing a pax tar with libarchive, to a file or to memory: banger's own layers (the
// injected files) and a subtree exported from an ext4 image (the work seed's source).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "banger/ext4/tree_sink.h"

struct archive;

namespace banger::ext4 {

class TarWriter final : public TreeSink {
 public:
  // Creates or truncates `path`. Errors (banger::Error Failed) name `path`.
  static std::unique_ptr<TarWriter> toFile(const std::string& path);
  // Appends to `out`, which must outlive the writer.
  static std::unique_ptr<TarWriter> toMemory(std::string& out);
  ~TarWriter() override;
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  void directory(const std::string& path, const TarMeta& meta) override;
  void file(const std::string& path, const TarMeta& meta, std::string_view content);
  void file(const std::string& path, const TarMeta& meta, std::uint64_t size,
            const Producer& produce) override;
  void symlink(const std::string& path, const TarMeta& meta, const std::string& target) override;
  void close();  // writes the end-of-archive blocks

 private:
  explicit TarWriter(std::string label);
  void header(const std::string& path, unsigned type, const TarMeta& meta, std::uint64_t size,
              const std::string* linkTarget);
  void data(std::string_view bytes);
  [[noreturn]] void failArchive(const std::string& what) const;

  archive* archive_ = nullptr;
  std::string label_;
  int fd_ = -1;
  std::string* memory_ = nullptr;
  static long writeCallback(archive*, void* self, const void* buffer, std::size_t length);
};

}  // namespace banger::ext4
