#include "spec.h"

#include <cctype>

#include "firecracker_spec.h"

namespace fcfake {

namespace {

std::string quoted(const Json& value) { return value.dump(); }

// serde's "invalid type: <what we got>".
std::string unexpected(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return std::string("boolean `") + (value.get<bool>() ? "true" : "false") + "`";
    case Json::value_t::string:
      return "string " + quoted(value);
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer `" + value.dump() + "`";
    case Json::value_t::number_float:
      return "floating point `" + value.dump() + "`";
    case Json::value_t::array:
      return "sequence";
    case Json::value_t::object:
      return "map";
    default:
      return "value";
  }
}

std::string expectedOf(const Json& schema, const std::string& field) {
  const std::string type = schema.value("type", "object");
  if (type == "string") return "a string";
  if (type == "boolean") return "a boolean";
  if (type == "integer") return "u64";
  if (type == "number") return "f64";
  if (type == "array") return "a sequence";
  return "struct " + field;
}

std::string joinTicked(const Json& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += "`" + (name.is_string() ? name.get<std::string>() : name.dump()) + "`";
  }
  return out;
}

bool equalsIgnoringCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

const Spec& Spec::v1_16_1() {
  static const Spec spec;
  return spec;
}

Spec::Spec() : document_(Json::parse(kSpecJson)) {}

const Json& Spec::definition(const std::string& name) const {
  return document_.at("definitions").at(name);
}

Json Spec::parse(const std::string& definition, const std::string& text) const {
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error& error) {
    // serde_json's wording for the common cases.
    const std::size_t byte = error.byte;
    std::size_t line = 1, column = 0;
    for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 0;
      } else {
        ++column;
      }
    }
    const bool atEnd = byte > text.size();
    throw BodyError(std::string(atEnd ? "EOF while parsing a value" : "expected value") +
                    " at line " + std::to_string(line) + " column " + std::to_string(column + 1));
  }
  validate(definition, value);
  return value;
}

void Spec::validate(const std::string& definitionName, const Json& value) const {
  check(definition(definitionName), value, definitionName);
}

void Spec::check(const Json& schemaIn, const Json& value, const std::string& where) const {
  const Json* schema = &schemaIn;
  std::string name = where;
  while (schema->contains("$ref")) {
    const std::string ref = (*schema)["$ref"].get<std::string>();
    name = ref.substr(ref.rfind('/') + 1);
    schema = &definition(name);
  }
  const std::string type = schema->value("type", schema->contains("properties") ? "object" : "");

  if (schema->contains("enum")) {
    if (!value.is_string())
      throw BodyError("invalid type: " + unexpected(value) + ", expected variant identifier");
    const std::string text = value.get<std::string>();
    // Firecracker parses the logger's level case-insensitively.
    const bool caseless = where == "Logger.level";
    for (const auto& allowed : (*schema)["enum"])
      if (allowed.is_string() && (caseless ? equalsIgnoringCase(allowed.get<std::string>(), text)
                                           : allowed.get<std::string>() == text))
        return;
    throw BodyError("unknown variant `" + text + "`, expected one of " +
                    joinTicked((*schema)["enum"]));
  }
  if (type == "object") {
    if (!value.is_object())
      throw BodyError("invalid type: " + unexpected(value) + ", expected struct " + name);
    const bool open = schema->value("additionalProperties", false) == true;
    const Json& properties = schema->contains("properties") ? (*schema)["properties"] : Json{};
    for (const auto& [key, item] : value.items()) {
      if (!properties.contains(key)) {
        if (open) continue;
        Json names = Json::array();
        for (const auto& [known, unused] : properties.items()) names.push_back(known);
        throw BodyError("unknown field `" + key + "`, expected " +
                        (names.size() == 1 ? "`" + names[0].get<std::string>() + "`"
                                           : "one of " + joinTicked(names)));
      }
    }
    if (schema->contains("required"))
      for (const auto& required : (*schema)["required"]) {
        const std::string key = required.get<std::string>();
        if (!value.contains(key)) throw BodyError("missing field `" + key + "`");
        if (value[key].is_null())
          throw BodyError("invalid type: null, expected " +
                          expectedOf(properties.contains(key) ? properties[key] : Json{}, key));
      }
    for (const auto& [key, item] : value.items()) {
      if (!properties.contains(key) || item.is_null()) continue;
      check(properties[key], item, name + "." + key);
    }
    return;
  }
  if (type == "string") {
    if (!value.is_string())
      throw BodyError("invalid type: " + unexpected(value) + ", expected a string");
    return;
  }
  if (type == "boolean") {
    if (!value.is_boolean())
      throw BodyError("invalid type: " + unexpected(value) + ", expected a boolean");
    return;
  }
  if (type == "integer") {
    if (value.is_number_integer() && value.get<long long>() < 0 && !value.is_number_unsigned())
      throw BodyError("invalid value: integer `" + value.dump() + "`, expected u64");
    if (!value.is_number_integer())
      throw BodyError("invalid type: " + unexpected(value) + ", expected u64");
    const auto number = value.get<unsigned long long>();
    if ((schema->contains("minimum") && number < (*schema)["minimum"].get<unsigned long long>()) ||
        (schema->contains("maximum") && number > (*schema)["maximum"].get<unsigned long long>()))
      throw BodyError("invalid value: integer `" + value.dump() + "`, expected " + where + " in " +
                      (*schema).value("minimum", Json(0)).dump() + ".." +
                      (*schema).value("maximum", Json("")).dump());
    return;
  }
  if (type == "number") {
    if (!value.is_number())
      throw BodyError("invalid type: " + unexpected(value) + ", expected f64");
    return;
  }
  if (type == "array") {
    if (!value.is_array())
      throw BodyError("invalid type: " + unexpected(value) + ", expected a sequence");
    if (schema->contains("items"))
      for (const auto& item : value) check((*schema)["items"], item, where + "[]");
    return;
  }
}

}  // namespace fcfake
