#include "banger/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace banger::log {
namespace {
std::mutex g_mutex;
std::string g_ident = "banger";
std::atomic<Level> g_level{Level::Info};

const char* levelWord(Level level) {
  switch (level) {
    case Level::Error:
      return "error";
    case Level::Warning:
      return "warning";
    case Level::Info:
      return "info";
    case Level::Debug:
      return "debug";
  }
  return "info";
}
}  // namespace

void setIdentity(std::string_view ident) {
  std::lock_guard lock(g_mutex);
  g_ident = ident;
}

void setLevel(Level level) { g_level = level; }

bool parseLevel(std::string_view text, Level& out) {
  for (Level l : {Level::Error, Level::Warning, Level::Info, Level::Debug}) {
    if (text == levelWord(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(g_level.load())) return;
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  std::lock_guard lock(g_mutex);
  if (journal) {
    std::fprintf(stderr, "<%d>%.*s\n", static_cast<int>(level), static_cast<int>(message.size()),
                 message.data());
  } else {
    std::fprintf(stderr, "%s: %s: %.*s\n", g_ident.c_str(), levelWord(level),
                 static_cast<int>(message.size()), message.data());
  }
}

}  // namespace banger::log
