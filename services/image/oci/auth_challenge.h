// The WWW-Authenticate header of a registry's 401 (RFC 7235): which scheme it wants and
// its parameters, e.g. Bearer realm="https://auth.docker.io/token",service="…",scope="…".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace banger::image::oci {

struct Challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names in lower case, values unquoted
  std::string param(const std::string& name) const;
};

// nullopt when the header is not a challenge this parser understands.
std::optional<Challenge> parseChallenge(std::string_view header);

}  // namespace banger::image::oci
