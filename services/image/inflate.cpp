#include "inflate.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "banger/ext4/archive_error.h"

namespace banger::image {
namespace {
struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
}  // namespace

void inflate(std::string_view compressed, std::uint64_t limit, const std::string& limitText,
             ErrorCode onError, const std::string& what,
             const std::function<void(std::string_view)>& chunk) {
  std::unique_ptr<archive, ArchiveFree> reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  archive_read_support_format_empty(reader.get());
  const auto corrupt = [&] {
    fail(onError, what + " does not inflate: " + ext4::archiveError(reader.get()));
  };
  archive_entry* entry = nullptr;
  if (archive_read_open_memory(reader.get(), compressed.data(), compressed.size()) != ARCHIVE_OK)
    corrupt();
  const int header = archive_read_next_header(reader.get(), &entry);
  if (header == ARCHIVE_EOF) return;
  if (header != ARCHIVE_OK) corrupt();
  std::uint64_t total = 0;
  char buffer[1 << 16];
  for (;;) {
    const la_ssize_t got = archive_read_data(reader.get(), buffer, sizeof buffer);
    if (got == 0) return;
    if (got < 0) corrupt();
    total += static_cast<std::uint64_t>(got);
    if (total > limit) fail(onError, what + " inflates past " + limitText);
    chunk(std::string_view(buffer, static_cast<std::size_t>(got)));
  }
}

}  // namespace banger::image
