// Logging to stderr. Under systemd (JOURNAL_STREAM set) lines carry the <N> priority
// prefix so journald records the level; elsewhere they read "ident: level: message".
#pragma once

#include <string>
#include <string_view>

namespace banger::log {

enum class Level { Error = 3, Warning = 4, Info = 6, Debug = 7 };

void setIdentity(std::string_view ident);
void setLevel(Level level);
// Accepts "error", "warning", "info", "debug"; returns false for anything else.
bool parseLevel(std::string_view text, Level& out);

void write(Level level, std::string_view message);
inline void error(std::string_view m) { write(Level::Error, m); }
inline void warning(std::string_view m) { write(Level::Warning, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void debug(std::string_view m) { write(Level::Debug, m); }

}  // namespace banger::log
