#include "banger/toml_fields.h"

#include "banger/errors.h"

namespace banger {

void configError(const std::string& source, const std::string& where, const std::string& problem) {
  fail(ErrorCode::InvalidArgument, source + ": " + where + ": " + problem);
}

toml::table parseToml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    configError(source,
                "line " + std::to_string(e.source().begin.line) + ", column " +
                    std::to_string(e.source().begin.column),
                std::string(e.description()));
  }
}

const std::string& tomlString(const toml::node& node, const std::string& source,
                              const std::string& key) {
  const auto* s = node.as_string();
  if (s == nullptr) configError(source, key, "must be a string");
  return s->get();
}

int64_t tomlInt(const toml::node& node, const std::string& source, const std::string& key,
                int64_t min, int64_t max) {
  const auto* i = node.as_integer();
  if (i == nullptr || i->get() < min || i->get() > max) {
    configError(source, key,
                "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return i->get();
}

}  // namespace banger
