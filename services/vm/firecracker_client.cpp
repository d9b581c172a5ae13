#include "firecracker_client.h"

#include <nlohmann/json.hpp>

#include "banger/errors.h"
#include "stream_http.h"

namespace banger::vm {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kRequestTimeout{10'000};
constexpr std::size_t kMaxAnswer = 1 << 20;

// Firecracker's error: {"fault_message": "..."} (or micro-http's {"error": "..."}).
std::string faultOf(const std::string& body) {
  const Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    for (const char* key : {"fault_message", "error"})
      if (parsed.contains(key) && parsed[key].is_string()) return parsed[key].get<std::string>();
  }
  return body.substr(0, 300);
}

// One API session: Firecracker keeps the connection open between requests, so a boot's
// ten requests share one; a new one is made only when the last answer closed it.
class ApiSession {
 public:
  explicit ApiSession(std::string socket) : socket_(std::move(socket)) {}

  HttpAnswer request(std::string_view method, const std::string& path,
                     const std::optional<Json>& body, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    if (!connection_)
      connection_ = StreamSocket::unixSocket(socket_, deadline, "Firecracker's API socket");
    connection_->setDeadline(deadline);
    connection_->send(
        httpRequestText(method, path, body ? std::optional(body->dump()) : std::nullopt));
    HttpAnswer answer = connection_->answer(kMaxAnswer);
    if (!answer.keepAlive) connection_.reset();
    return answer;
  }

  void put(const std::string& path, const Json& body) {
    const HttpAnswer answer = request("PUT", path, body, kRequestTimeout);
    if (answer.status != 204)
      fail(ErrorCode::Failed, "Firecracker refused PUT " + path + " (" +
                                  std::to_string(answer.status) + "): " + faultOf(answer.body));
  }

 private:
  std::string socket_;
  std::optional<StreamSocket> connection_;
};

}  // namespace

void HttpFirecrackerApi::boot(const std::string& socket, const FirecrackerConfig& config) {
  ApiSession api(socket);
  // The logger first, so that Firecracker's own complaints about the rest reach the log.
  if (!config.logPath.empty())
    api.put("/logger", {{"log_path", config.logPath}, {"level", "Warning"}, {"show_level", true}});
  api.put("/machine-config", {{"vcpu_count", config.vcpus}, {"mem_size_mib", config.memoryMib}});
  Json bootSource = {{"kernel_image_path", config.kernel}, {"boot_args", config.bootArgs}};
  if (!config.initrd.empty()) bootSource["initrd_path"] = config.initrd;
  api.put("/boot-source", bootSource);
  for (const FirecrackerDrive& drive : config.drives)
    api.put("/drives/" + drive.id, {{"drive_id", drive.id},
                                    {"path_on_host", drive.path},
                                    {"is_root_device", drive.root},
                                    {"is_read_only", drive.readOnly}});
  if (config.nic)
    api.put(
        "/network-interfaces/eth0",
        {{"iface_id", "eth0"}, {"host_dev_name", config.nic->tap}, {"guest_mac", config.nic->mac}});
  api.put("/vsock", {{"guest_cid", config.vsockCid}, {"uds_path", config.vsockPath}});
  if (!config.consolePath.empty()) api.put("/serial", {{"serial_out_path", config.consolePath}});
  api.put("/actions", {{"action_type", "InstanceStart"}});
}

void HttpFirecrackerApi::sendCtrlAltDel(const std::string& socket) {
  ApiSession(socket).put("/actions", {{"action_type", "SendCtrlAltDel"}});
}

std::optional<FirecrackerApi::Instance> HttpFirecrackerApi::describe(const std::string& socket) {
  try {
    const HttpAnswer answer =
        ApiSession(socket).request("GET", "/", std::nullopt, std::chrono::milliseconds(3000));
    const Json body = Json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !body.is_object() || !body.contains("id") ||
        !body["id"].is_string())
      return std::nullopt;
    return Instance{body["id"].get<std::string>(), body.value("state", std::string("Not started"))};
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace banger::vm
