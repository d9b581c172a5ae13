// Every operation of Firecracker v1.16.1's API description replayed against
// firecracker-fake, before and after InstanceStart: a minimal valid body built from the
// definition, then each invalid shape (a missing required field, an unknown field, a
// wrong type, an unknown enum variant, no body), compared with what Firecracker answers
// (its rules as src/vmm/src/rpc_interface.rs and src/firecracker/src/api_server state them).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/spec.h"
#include "harness.h"
#include "stand_in.h"

#ifndef FIRECRACKER_FAKE_BIN
#error "FIRECRACKER_FAKE_BIN must name the firecracker-fake binary"
#endif

namespace fcfake::test {
namespace {

namespace fs = std::filesystem;

const std::string kPre = "The requested operation is not supported before starting the microVM.";
const std::string kPost = "The requested operation is not supported after starting the microVM.";
const std::string kSerde = "An error occurred when deserializing the json body of a request: ";
const std::string kOk;  // a 2xx answer

// What Firecracker answers to the minimal valid body, before and after boot: kOk or the
// start of its fault_message.
struct Expected {
  std::string preBoot;
  std::string postBoot;
};

const std::map<std::string, Expected>& rules() {
  static const std::map<std::string, Expected> table = {
      {"GET /", {kOk, kOk}},
      {"GET /version", {kOk, kOk}},
      {"GET /machine-config", {kOk, kOk}},
      {"GET /vm/config", {kOk, kOk}},
      {"PUT /actions", {kPre, kOk}},  // the first action in the enum: FlushMetrics
      {"PUT /boot-source", {kOk, kPost}},
      {"PUT /logger", {kOk, kPost}},
      {"PUT /metrics", {kOk, kPost}},
      {"PUT /machine-config", {kOk, kPost}},
      {"PATCH /machine-config", {kOk, kPost}},
      {"PUT /serial", {kOk, kPost}},
      {"PUT /entropy", {kOk, kPost}},
      {"PUT /cpu-config", {kOk, kPost}},
      {"PUT /vsock", {kOk, kPost}},
      {"PUT /balloon", {kOk, kPost}},
      {"PUT /hotplug/memory", {kOk, kPost}},
      // path_on_host is optional in the schema but a virtio-block drive needs it.
      {"PUT /drives/{drive_id}",
       {"Drive config error: Unable to create the virtio block device: Invalid block config.",
        "PCI is not enabled"}},
      {"PUT /pmem/{id}", {kOk, "PCI is not enabled"}},
      // No TAP of that name exists: Firecracker, unprivileged, cannot open it.
      {"PUT /network-interfaces/{iface_id}",
       {"Network config error: Could not create the network device: Open tap device failed",
        "PCI is not enabled"}},
      {"PATCH /drives/{drive_id}", {kPre, "Drive config error"}},
      {"PATCH /pmem/{id}", {kPre, "The requested operation is not supported"}},
      {"PATCH /network-interfaces/{iface_id}", {kPre, "Network config error"}},
      {"PUT /mmds", {kOk, "MMDS error: The MMDS data store is not initialized."}},
      {"PATCH /mmds", {kOk, "MMDS error: The MMDS data store is not initialized."}},
      {"GET /mmds", {kOk, "MMDS error: The MMDS data store is not initialized."}},
      {"PUT /mmds/config", {"MMMDS config error: The list of network interface IDs", kPost}},
      {"GET /balloon", {"Balloon config error", "Balloon config error"}},
      {"PATCH /balloon", {kPre, "Balloon update error"}},
      {"GET /balloon/statistics", {kPre, "Balloon config error"}},
      {"PATCH /balloon/statistics", {kPre, "Balloon update error"}},
      {"PATCH /balloon/hinting/start", {kPre, "Balloon update error"}},
      {"PATCH /balloon/hinting/stop", {kPre, "Balloon update error"}},
      {"GET /balloon/hinting/status", {kPre, "Balloon config error"}},
      {"GET /hotplug/memory", {kPre, "Memory hotplug update error"}},
      {"PATCH /hotplug/memory", {kPre, "Memory hotplug update error"}},
      {"PATCH /vm", {kPre, kOk}},
      {"PUT /snapshot/create", {kPre, "Create snapshot error"}},  // the VM is not paused
      // Neither mem_backend nor mem_file_path: refused while parsing, in any state.
      {"PUT /snapshot/load", {kSerde + "missing field", kSerde + "missing field"}},
  };
  return table;
}

struct Operation {
  std::string method;
  std::string path;        // as in the spec, with {id} placeholders
  std::string definition;  // of the body; empty when it takes none
  std::string key() const { return method + " " + path; }
  std::string concretePath() const {
    std::string out = path;
    for (const char* placeholder : {"{drive_id}", "{iface_id}", "{id}"})
      if (const auto at = out.find(placeholder); at != std::string::npos)
        out.replace(at, std::string(placeholder).size(), "dev_1");
    return out;
  }
};

std::vector<Operation> operations() {
  std::vector<Operation> out;
  for (const auto& [path, methods] : Spec::v1_16_1().document()["paths"].items())
    for (const auto& [method, operation] : methods.items()) {
      Operation op{method, path, ""};
      for (char& c : op.method) c = static_cast<char>(std::toupper(c));
      for (const auto& parameter : operation.value("parameters", Json::array()))
        if (parameter.value("in", "") == "body") {
          const std::string ref = parameter["schema"]["$ref"].get<std::string>();
          op.definition = ref.substr(ref.rfind('/') + 1);
        }
      out.push_back(op);
    }
  return out;
}

const Json& resolve(const Json& schema) {
  const Json* at = &schema;
  while (at->contains("$ref")) {
    const std::string ref = (*at)["$ref"].get<std::string>();
    at = &Spec::v1_16_1().definition(ref.substr(ref.rfind('/') + 1));
  }
  return *at;
}

// The smallest value the schema allows, with host paths that work for a fresh stand-in.
class BodyMaker {
 public:
  explicit BodyMaker(fs::path dir) : dir_(std::move(dir)) {}

  Json make(const Json& schemaIn, const std::string& field) {
    const Json& schema = resolve(schemaIn);
    if (schema.contains("enum")) return schema["enum"][0];
    const std::string type = schema.value("type", "object");
    if (type == "string") return stringFor(field);
    if (type == "boolean") return false;
    if (type == "integer") return schema.value("minimum", field == "mem_size_mib" ? 128 : 1);
    if (type == "array") return Json::array();
    Json object = Json::object();
    for (const auto& required : schema.value("required", Json::array())) {
      const std::string name = required.get<std::string>();
      object[name] = make(schema["properties"][name], name);
    }
    return object;
  }

 private:
  Json stringFor(const std::string& field) {
    if (field == "drive_id" || field == "iface_id" || field == "id") return "dev_1";
    if (field == "host_dev_name") return "fcnotap0";
    if (field == "kernel_image_path") return writeFakeKernel(dir_).string();
    if (field == "path_on_host" || field == "initrd_path") {
      const fs::path file = dir_ / "disk.img";
      std::ofstream(file) << std::string(4096, '\0');
      return file.string();
    }
    if (field.size() > 5 && field.substr(field.size() - 5) == "_path")
      return (dir_ / ("out-" + std::to_string(counter_++))).string();
    return "value";
  }
  fs::path dir_;
  int counter_ = 0;
};

class ApiSpec : public ::testing::Test {
 protected:
  std::unique_ptr<StandIn> fresh(bool booted) {
    const fs::path dir = temp_.path() / ("run-" + std::to_string(runs_++));
    auto fake = std::make_unique<StandIn>(FIRECRACKER_FAKE_BIN, dir);
    if (booted) {
      const std::string kernel = writeFakeKernel(dir).string();
      EXPECT_EQ(
          fake->call("PUT", "/boot-source",
                     Json{{"kernel_image_path", kernel}, {"boot_args", "console=ttyS0"}}.dump())
              .status,
          204);
      EXPECT_EQ(fake->call("PUT", "/actions", R"({"action_type":"InstanceStart"})").status, 204);
    }
    return fake;
  }
  banger::test::TempDir temp_;
  int runs_ = 0;
};

void expectAnswer(const ApiAnswer& answer, const std::string& expected, const std::string& what) {
  if (expected.empty()) {
    EXPECT_GE(answer.status, 200) << what << ": " << answer.body;
    EXPECT_LT(answer.status, 300) << what << ": " << answer.body;
  } else {
    EXPECT_EQ(answer.status, 400) << what;
    EXPECT_EQ(answer.fault().rfind(expected, 0), 0u)
        << what << ": expected a fault starting with \"" << expected << "\", got " << answer.body;
  }
}

TEST(ApiSpecTable, CoversEveryOperationOfTheSpec) {
  std::set<std::string> inSpec;
  for (const Operation& op : operations()) inSpec.insert(op.key());
  std::set<std::string> inTable;
  for (const auto& [key, unused] : rules()) inTable.insert(key);
  EXPECT_EQ(inSpec, inTable);
  EXPECT_EQ(inSpec.size(), 38u);
}

TEST_F(ApiSpec, EveryOperationWithAValidBodyBeforeAndAfterBoot) {
  for (const bool booted : {false, true}) {
    for (const Operation& op : operations()) {
      const auto fake = fresh(booted);
      BodyMaker maker(fake->dir());
      std::optional<std::string> body;
      if (!op.definition.empty())
        body = maker.make(Spec::v1_16_1().definition(op.definition), op.definition).dump();
      const Expected& expected = rules().at(op.key());
      expectAnswer(fake->call(op.method, op.concretePath(), body),
                   booted ? expected.postBoot : expected.preBoot,
                   op.key() + (booted ? " after boot" : " before boot") + " with " +
                       body.value_or("no body"));
      if (!op.definition.empty())
        expectAnswer(fake->call(op.method, op.concretePath()),
                     op.method == "PUT" ? "Empty PUT request." : "Empty PATCH request.",
                     op.key() + " without a body");
      else if (op.method == "GET")
        expectAnswer(fake->call(op.method, op.concretePath(), "{}"),
                     "GET request cannot have a body.", op.key() + " with a body");
    }
  }
}

// For each definition: each required field left out, an unknown field added, each field
// given the wrong type, each enum given an unknown variant. Refused while parsing, so the
// answer is the same before and after boot.
TEST_F(ApiSpec, EveryInvalidShapeIsRefusedWithSerdesWords) {
  int shapes = 0;
  for (const bool booted : {false, true}) {
    const auto fake = fresh(booted);
    for (const Operation& op : operations()) {
      if (op.definition.empty()) continue;
      const Json& schema = Spec::v1_16_1().definition(op.definition);
      BodyMaker maker(fake->dir());
      const Json valid = maker.make(schema, op.definition);
      const auto send = [&](const Json& body, const std::string& expected,
                            const std::string& what) {
        ++shapes;
        expectAnswer(fake->call(op.method, op.concretePath(), body.dump()), kSerde + expected,
                     op.key() + ": " + what + ": " + body.dump());
      };
      if (!schema.value("additionalProperties", false)) {
        Json unknown = valid;
        unknown["no_such_field"] = 1;
        send(unknown, "unknown field `no_such_field`, expected", "an unknown field");
      }
      // PATCH /machine-config takes any subset (MachineConfigUpdate), whatever the schema says.
      const Json required = op.key() == "PATCH /machine-config"
                                ? Json::array()
                                : schema.value("required", Json::array());
      for (const auto& field : required) {
        Json missing = valid;
        missing.erase(field.get<std::string>());
        send(missing, "missing field `" + field.get<std::string>() + "`", "a missing field");
      }
      const Json properties = schema.value("properties", Json::object());
      for (const auto& [name, property] : properties.items()) {
        const Json& resolved = resolve(property);
        const std::string type = resolved.value("type", "object");
        Json wrong = valid;
        wrong[name] = type == "string" || resolved.contains("enum") ? Json(12) : Json("text");
        send(wrong, "invalid type: ", "a wrong type for " + name);
        if (resolved.contains("enum")) {
          Json variant = valid;
          variant[name] = "NoSuchVariant";
          send(variant, "unknown variant `NoSuchVariant`, expected one of",
               "a bad variant of " + name);
        }
      }
      ++shapes;
      expectAnswer(fake->call(op.method, op.concretePath(), std::string("{\"a\":")),
                   kSerde + "EOF while parsing", op.key() + ": truncated JSON");
    }
  }
  EXPECT_GT(shapes, 300);
}

TEST_F(ApiSpec, UnknownPathsAndMethodsAreRefusedLikeFirecracker) {
  const auto fake = fresh(false);
  EXPECT_EQ(fake->call("GET", "/no-such").fault(),
            "Invalid request method and/or path: GET /no-such.");
  EXPECT_EQ(fake->call("DELETE", "/boot-source").fault(),
            "Invalid request method and/or path: DELETE /boot-source.");
  EXPECT_EQ(fake->call("PUT", "/drives", R"({"drive_id":"a","is_root_device":false})").fault(),
            "The ID cannot be empty.");
  EXPECT_EQ(fake->call("PUT", "/drives/root-fs", R"({"drive_id":"root-fs","is_root_device":true})")
                .fault(),
            "API Resource IDs can only contain alphanumeric characters and underscores.");
  EXPECT_EQ(fake->call("PUT", "/drives/a", R"({"drive_id":"b","is_root_device":true})").fault(),
            "The id from the path does not match the id from the body!");
}

}  // namespace
}  // namespace fcfake::test
