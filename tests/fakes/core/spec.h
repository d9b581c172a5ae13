// Firecracker v1.16.1's API description (the swagger file, embedded at build time) and a
// validator of request bodies against its definitions that is as strict as Firecracker's
// serde structs: unknown keys refused (`deny_unknown_fields`, which the swagger cannot
// say), types, required fields, enums and bounds. Messages follow serde_json's wording,
// without its " at line L column C" suffix.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace fcfake {

// A body Firecracker refuses while deserializing it.
class BodyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Json = nlohmann::ordered_json;

class Spec {
 public:
  static const Spec& v1_16_1();
  const Json& document() const { return document_; }
  const Json& definition(const std::string& name) const;

  // Parses `text` and checks it against definitions/<definition>. JSON nulls count as
  // absent for optional fields (serde's Option). Throws BodyError.
  Json parse(const std::string& definition, const std::string& text) const;
  void validate(const std::string& definition, const Json& value) const;

 private:
  Spec();
  void check(const Json& schema, const Json& value, const std::string& where) const;
  Json document_;
};

}  // namespace fcfake
