#include "firecracker_client.h"

#include <nlohmann/json.hpp>

#include "banger/errors.h"
#include "banger/http.h"

namespace banger::vm {
namespace {

using Json = nlohmann::json;

constexpr std::chrono::milliseconds kRequestTimeout{10'000};

http::Request request(const std::string& socket, const std::string& method, const std::string& path,
                      const std::optional<Json>& body) {
  http::Request r;
  r.method = method;
  r.url = "http://localhost" + path;
  r.unixSocket = socket;
  r.connectTimeout = std::chrono::milliseconds(2000);
  r.totalTimeout = kRequestTimeout;
  r.maxBodyBytes = 1 << 20;
  if (body) {
    r.body = body->dump();
    r.headers = {"Content-Type: application/json", "Accept: application/json"};
  }
  return r;
}

// Firecracker's error: {"fault_message": "..."} (or micro-http's {"error": "..."}).
std::string faultOf(const std::string& body) {
  const Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    for (const char* key : {"fault_message", "error"})
      if (parsed.contains(key) && parsed[key].is_string()) return parsed[key].get<std::string>();
  }
  return body.substr(0, 300);
}

void put(const http::Client& client, const std::string& socket, const std::string& path,
         const Json& body) {
  const http::Request r = request(socket, "PUT", path, body);
  const http::Response response = client.fetch(r);
  if (response.status != 204)
    fail(ErrorCode::Failed, "Firecracker refused PUT " + path + " (" +
                                std::to_string(response.status) + "): " + faultOf(response.body));
}

}  // namespace

void HttpFirecrackerApi::boot(const std::string& socket, const FirecrackerConfig& config) {
  const http::Client client;
  // The logger first, so that Firecracker's own complaints about the rest reach the log.
  if (!config.logPath.empty())
    put(client, socket, "/logger",
        {{"log_path", config.logPath}, {"level", "Warning"}, {"show_level", true}});
  put(client, socket, "/machine-config",
      {{"vcpu_count", config.vcpus}, {"mem_size_mib", config.memoryMib}});
  Json bootSource = {{"kernel_image_path", config.kernel}, {"boot_args", config.bootArgs}};
  if (!config.initrd.empty()) bootSource["initrd_path"] = config.initrd;
  put(client, socket, "/boot-source", bootSource);
  for (const FirecrackerDrive& drive : config.drives)
    put(client, socket, "/drives/" + drive.id,
        {{"drive_id", drive.id},
         {"path_on_host", drive.path},
         {"is_root_device", drive.root},
         {"is_read_only", drive.readOnly}});
  if (config.nic)
    put(client, socket, "/network-interfaces/eth0",
        {{"iface_id", "eth0"}, {"host_dev_name", config.nic->tap}, {"guest_mac", config.nic->mac}});
  put(client, socket, "/vsock", {{"guest_cid", config.vsockCid}, {"uds_path", config.vsockPath}});
  if (!config.consolePath.empty())
    put(client, socket, "/serial", {{"serial_out_path", config.consolePath}});
  put(client, socket, "/actions", {{"action_type", "InstanceStart"}});
}

void HttpFirecrackerApi::sendCtrlAltDel(const std::string& socket) {
  put(http::Client(), socket, "/actions", {{"action_type", "SendCtrlAltDel"}});
}

std::optional<FirecrackerApi::Instance> HttpFirecrackerApi::describe(const std::string& socket) {
  http::Request r = request(socket, "GET", "/", std::nullopt);
  r.connectTimeout = std::chrono::milliseconds(1000);
  r.totalTimeout = std::chrono::milliseconds(3000);
  try {
    const http::Response response = http::Client().fetch(r);
    const Json body = Json::parse(response.body, nullptr, false);
    if (response.status != 200 || !body.is_object() || !body.contains("id") ||
        !body["id"].is_string())
      return std::nullopt;
    return Instance{body["id"].get<std::string>(), body.value("state", std::string("Not started"))};
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace banger::vm
