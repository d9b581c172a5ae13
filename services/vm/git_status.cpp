#include "git_status.h"

#include <string_view>

namespace banger::vm {

std::vector<GitStatusEntry> parseGitStatus(const std::string& text) {
  std::vector<GitStatusEntry> out;
  size_t start = 0;
  for (size_t end; start < text.size(); start = end + 1) {
    end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view record(text.data() + start, end - start);
    if (record.size() < 2 || record[1] != ' ') continue;
    // The fixed fields before the path, which may hold spaces.
    const char kind = record[0];
    const int fieldsBeforePath = kind == '1' ? 8 : kind == 'u' ? 10 : kind == '?' ? 1 : -1;
    if (fieldsBeforePath < 0) continue;
    size_t at = 0;
    for (int i = 0; i < fieldsBeforePath && at != std::string_view::npos; ++i)
      if ((at = record.find(' ', at)) != std::string_view::npos) ++at;
    if (at == std::string_view::npos || at >= record.size()) continue;
    GitStatusEntry entry;
    entry.path = std::string(record.substr(at));
    if (kind == '?') {
      entry.index = entry.tree = '?';
    } else {
      // Two states, neither of them '?': git writes no other ordinary or unmerged record.
      if (record.size() < 4 || record[2] == '?' || record[3] == '?') continue;
      entry.index = record[2];
      entry.tree = record[3];
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace banger::vm
