#include "deb_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <lzma.h>

#include <memory>
#include <thread>
#include <vector>

#include "banger/errors.h"
#include "banger/ext4/archive_error.h"

namespace banger::image {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using Reader = std::unique_ptr<archive, ArchiveFree>;

// The data member, read out of the outer archive block by block for the inner reader.
struct MemberSource {
  archive* outer;
};

la_ssize_t readMember(archive*, void* context, const void** buffer) {
  auto* source = static_cast<MemberSource*>(context);
  std::size_t size = 0;
  la_int64_t offset = 0;
  const int status = archive_read_data_block(source->outer, buffer, &size, &offset);
  if (status == ARCHIVE_EOF) return 0;
  if (status != ARCHIVE_OK) return -1;
  return static_cast<la_ssize_t>(size);
}

// data.tar.xz inflated on every core: dpkg-deb compresses in independent blocks, which
// liblzma's threaded decoder takes in parallel (libarchive's own xz reader uses one core;
// a kernel package's 91 MB of modules inflate in about half the time this way).
class XzMember {
 public:
  explicit XzMember(archive* outer) : outer_(outer), out_(1 << 20) {
    lzma_mt options{};
    options.threads = std::max(1u, std::thread::hardware_concurrency());
    options.memlimit_threading = 512ull << 20;
    options.memlimit_stop = 2ull << 30;
    options.flags = LZMA_CONCATENATED;
    if (lzma_stream_decoder_mt(&stream_, &options) != LZMA_OK)
      fail(ErrorCode::Failed, "liblzma: cannot start a decoder");
  }
  ~XzMember() { lzma_end(&stream_); }
  XzMember(const XzMember&) = delete;
  XzMember& operator=(const XzMember&) = delete;

  static la_ssize_t read(archive*, void* context, const void** buffer) {
    return static_cast<XzMember*>(context)->next(buffer);
  }

 private:
  la_ssize_t next(const void** buffer) {
    stream_.next_out = out_.data();
    stream_.avail_out = out_.size();
    while (stream_.avail_out == out_.size() && !ended_) {
      lzma_action action = LZMA_RUN;
      if (stream_.avail_in == 0 && !inputDone_) {
        const void* block = nullptr;
        std::size_t size = 0;
        la_int64_t offset = 0;
        const int status = archive_read_data_block(outer_, &block, &size, &offset);
        if (status == ARCHIVE_EOF)
          inputDone_ = true;
        else if (status != ARCHIVE_OK)
          return -1;
        stream_.next_in = static_cast<const std::uint8_t*>(block);
        stream_.avail_in = size;
      }
      if (inputDone_ && stream_.avail_in == 0) action = LZMA_FINISH;
      const lzma_ret result = lzma_code(&stream_, action);
      if (result == LZMA_STREAM_END)
        ended_ = true;
      else if (result != LZMA_OK)
        return -1;
    }
    *buffer = out_.data();
    return static_cast<la_ssize_t>(out_.size() - stream_.avail_out);
  }

  archive* outer_;
  lzma_stream stream_ = LZMA_STREAM_INIT;
  std::vector<std::uint8_t> out_;
  bool inputDone_ = false;
  bool ended_ = false;
};

class TarMember final : public DebEntry {
 public:
  TarMember(archive* tar, archive_entry* entry, const std::string& package)
      : tar_(tar), entry_(entry), package_(package) {
    const char* raw = archive_entry_pathname_utf8(entry);
    path_ = raw ? raw : (archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "");
    while (path_.starts_with("./")) path_.erase(0, 2);
  }
  const std::string& path() const override { return path_; }
  bool isRegularFile() const override {
    return archive_entry_filetype(entry_) == AE_IFREG && !archive_entry_hardlink(entry_);
  }
  std::uint64_t size() const override {
    return static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(entry_), 0));
  }
  std::string read(std::uint64_t maxBytes) override {
    if (size() > maxBytes)
      fail(ErrorCode::InvalidArgument, package_ + ": " + path_ + " is " + std::to_string(size()) +
                                           " bytes, more than the " + std::to_string(maxBytes) +
                                           " allowed");
    std::string bytes(size(), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
      const la_ssize_t got = archive_read_data(tar_, bytes.data() + done, bytes.size() - done);
      if (got <= 0)
        fail(ErrorCode::InvalidArgument,
             package_ + ": " + path_ + " is truncated or corrupt: " +
                 (got < 0 ? ext4::archiveError(tar_) : std::string("short read")));
      done += static_cast<std::size_t>(got);
    }
    return bytes;
  }

 private:
  archive* tar_;
  archive_entry* entry_;
  const std::string& package_;
  std::string path_;
};

}  // namespace

void forEachDebFile(const std::string& debPath, const std::function<void(DebEntry&)>& onEntry,
                    const std::atomic<bool>* cancel) {
  const auto corrupt = [&](archive* a, const std::string& what) {
    fail(ErrorCode::InvalidArgument, debPath + ": " + what + ": " + ext4::archiveError(a));
  };
  Reader outer(archive_read_new());
  archive_read_support_format_ar(outer.get());
  if (archive_read_open_filename(outer.get(), debPath.c_str(), 1 << 16) != ARCHIVE_OK)
    corrupt(outer.get(), "not a Debian package (an ar archive)");
  archive_entry* member = nullptr;
  bool sawBinary = false;
  for (;;) {
    const int status = archive_read_next_header(outer.get(), &member);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK) corrupt(outer.get(), "not a Debian package (ar archive)");
    const std::string name = archive_entry_pathname(member) ? archive_entry_pathname(member) : "";
    if (name == "debian-binary") sawBinary = true;
    if (!name.starts_with("data.tar")) continue;
    if (!sawBinary)
      fail(ErrorCode::InvalidArgument, debPath + ": not a Debian package (no debian-binary first)");
    MemberSource source{outer.get()};
    std::unique_ptr<XzMember> xz;
    if (name == "data.tar.xz") xz = std::make_unique<XzMember>(outer.get());
    Reader tar(archive_read_new());
    archive_read_support_filter_all(tar.get());
    archive_read_support_format_tar(tar.get());
    const int opened = xz ? archive_read_open(tar.get(), xz.get(), nullptr, XzMember::read, nullptr)
                          : archive_read_open(tar.get(), &source, nullptr, readMember, nullptr);
    if (opened != ARCHIVE_OK) corrupt(tar.get(), "cannot read " + name);
    archive_entry* entry = nullptr;
    for (;;) {
      if (cancel && cancel->load()) fail(ErrorCode::Canceled, "canceled while reading " + debPath);
      const int next = archive_read_next_header(tar.get(), &entry);
      if (next == ARCHIVE_EOF) return;
      if (next != ARCHIVE_OK && next != ARCHIVE_WARN)
        corrupt(tar.get(), name + " is truncated or corrupt");
      TarMember file(tar.get(), entry, debPath);
      onEntry(file);
    }
  }
  fail(ErrorCode::InvalidArgument, debPath + ": not a Debian package (no data.tar member)");
}

}  // namespace banger::image
