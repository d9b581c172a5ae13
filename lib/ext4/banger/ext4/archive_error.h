// libarchive's message for its last error, which may be none at all (NULL).
#pragma once

#include <archive.h>

#include <string>

namespace banger::ext4 {

inline std::string archiveError(archive* a, const char* otherwise = "unknown error") {
  const char* text = a ? archive_error_string(a) : nullptr;
  return text ? text : otherwise;
}

}  // namespace banger::ext4
