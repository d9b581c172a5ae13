// The resources of a microVM as Firecracker configures them: what each PUT opens and
// checks, and the full configuration GET /vm/config reports.
#include <fcntl.h>
#include <strings.h>

#include <cerrno>
#include <cstring>

#include "host_resources.h"
#include "vmm.h"

namespace fcfake {

namespace {

std::string optionalString(const Json& body, const char* key) {
  return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
}

bool parseMac(const std::string& text) {
  if (text.size() != 17) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != ':') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Vmm::putBootSource(const Json& body) {
  requirePreBoot();
  BootSource source;
  source.kernelImagePath = body["kernel_image_path"].get<std::string>();
  if (body.contains("initrd_path") && body["initrd_path"].is_string())
    source.initrdPath = body["initrd_path"].get<std::string>();
  if (body.contains("boot_args") && body["boot_args"].is_string())
    source.bootArgs = body["boot_args"].get<std::string>();
  source.kernel = UniqueFd(open(source.kernelImagePath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!source.kernel)
    throw ApiError("Boot source error: The kernel file cannot be opened: " + osError(errno));
  if (source.initrdPath) {
    source.initrd = UniqueFd(open(source.initrdPath->c_str(), O_RDONLY | O_CLOEXEC));
    if (!source.initrd)
      throw ApiError(
          "Boot source error: The initrd file cannot be opened due to invalid path or "
          "invalid permissions. " +
          osError(errno));
  }
  // x86's limit on the command line, with room for what Firecracker appends.
  if (source.bootArgs && source.bootArgs->size() > 2048)
    throw ApiError(
        "Boot source error: The kernel command line is invalid: Command line string "
        "too large");
  config_.bootSource = std::move(source);
  bootResourceConfigured_ = true;
}

void Vmm::putDrive(const Json& body) {
  Drive drive;
  drive.id = body["drive_id"].get<std::string>();
  drive.isRootDevice = body["is_root_device"].get<bool>();
  drive.isReadOnly = body.value("is_read_only", false);
  if (body.contains("partuuid") && body["partuuid"].is_string())
    drive.partuuid = body["partuuid"].get<std::string>();
  drive.cacheType = body.contains("cache_type") ? optionalString(body, "cache_type") : "Unsafe";
  drive.ioEngine = body.contains("io_engine") ? optionalString(body, "io_engine") : "Sync";
  if (drive.cacheType.empty()) drive.cacheType = "Unsafe";
  if (drive.ioEngine.empty()) drive.ioEngine = "Sync";
  if (body.contains("socket") && body["socket"].is_string())
    throw ApiError(
        "Drive config error: Unable to create the virtio block device: Vhost user "
        "backend error: vhost-user-block is not emulated by the Firecracker stand-in");
  if (!body.contains("path_on_host") || !body["path_on_host"].is_string())
    throw ApiError(
        "Drive config error: Unable to create the virtio block device: Invalid block "
        "config.");
  drive.pathOnHost = optionalString(body, "path_on_host");
  if (drive.isRootDevice)
    for (const Drive& other : config_.drives)
      if (other.isRootDevice && other.id != drive.id)
        throw ApiError("Drive config error: A root block device already exists!");
  drive.file =
      UniqueFd(open(drive.pathOnHost.c_str(), (drive.isReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC));
  if (!drive.file)
    throw ApiError(
        "Drive config error: Unable to create the virtio block device: Virtio backend "
        "error: Error manipulating the backing file: " +
        osError(errno) + " " + drive.pathOnHost);
  for (Drive& existing : config_.drives)
    if (existing.id == drive.id) {
      existing = std::move(drive);
      bootResourceConfigured_ = true;
      return;
    }
  config_.drives.push_back(std::move(drive));
  bootResourceConfigured_ = true;
}

void Vmm::putNetworkInterface(const Json& body, uid_t caller) {
  NetworkInterface iface;
  iface.id = body["iface_id"].get<std::string>();
  iface.hostDevName = body["host_dev_name"].get<std::string>();
  if (body.contains("mtu") && body["mtu"].is_number()) iface.mtu = body["mtu"].get<unsigned>();
  if (body.contains("guest_mac") && body["guest_mac"].is_string()) {
    const std::string mac = body["guest_mac"].get<std::string>();
    if (!parseMac(mac))
      throw RequestError(
          "An error occurred when deserializing the json body of a request: "
          "invalid value: string \"" +
          mac + "\", expected MAC address in format xx:xx:xx:xx:xx:xx.");
    iface.guestMac = mac;
    for (const auto& other : config_.networkInterfaces)
      if (other.id != iface.id && other.guestMac &&
          strcasecmp(other.guestMac->c_str(), mac.c_str()) == 0)
        throw ApiError("Network config error: The MAC address is already in use: " + mac);
  }
  // Replacing an interface releases its TAP before the new one is attached.
  for (auto it = config_.networkInterfaces.begin(); it != config_.networkInterfaces.end(); ++it)
    if (it->id == iface.id) {
      config_.networkInterfaces.erase(it);
      break;
    }
  try {
    iface.tap = attachTap(iface.hostDevName, caller);
  } catch (const ApiError& error) {
    throw ApiError(std::string("Network config error: ") + error.what());
  }
  config_.networkInterfaces.push_back(std::move(iface));
  bootResourceConfigured_ = true;
}

void Vmm::putVsock(const Json& body) {
  requirePreBoot();
  Vsock vsock;
  vsock.guestCid = body["guest_cid"].get<std::uint32_t>();
  vsock.udsPath = body["uds_path"].get<std::string>();
  // A second PUT replaces the device: Firecracker removes its previous socket first.
  if (config_.vsock) {
    unlink(config_.vsock->udsPath.c_str());
    config_.vsock.reset();
  }
  try {
    vsock.listener = bindVsockSocket(vsock.udsPath);
  } catch (const ApiError& error) {
    throw ApiError(std::string("Vsock config error: ") + error.what());
  }
  config_.vsock = std::move(vsock);
  bootResourceConfigured_ = true;
}

void Vmm::putMachineConfig(const Json& body, bool patch) {
  requirePreBoot();
  MachineConfig next = patch ? config_.machine : MachineConfig{};
  if (body.contains("vcpu_count")) next.vcpuCount = body["vcpu_count"].get<unsigned>();
  if (body.contains("mem_size_mib")) next.memSizeMib = body["mem_size_mib"].get<unsigned>();
  if (body.contains("smt") && body["smt"].is_boolean()) next.smt = body["smt"].get<bool>();
  if (body.contains("track_dirty_pages") && body["track_dirty_pages"].is_boolean())
    next.trackDirtyPages = body["track_dirty_pages"].get<bool>();
  if (body.contains("huge_pages") && body["huge_pages"].is_string())
    next.hugePages = body["huge_pages"].get<std::string>();
  if (next.vcpuCount == 0 || next.vcpuCount > 32 ||
      (next.smt && next.vcpuCount > 1 && next.vcpuCount % 2))
    throw ApiError(
        "Machine config error: The number of vCPUs must be greater than 0, less than "
        "32 and must be 1 or an even number if SMT is enabled.");
  if (next.memSizeMib == 0 || (next.hugePages == "2M" && next.memSizeMib % 2))
    throw ApiError(
        "Machine config error: The memory size (MiB) is either 0, or not a multiple "
        "of the configured page size.");
  config_.machine = next;
  bootResourceConfigured_ = true;
}

void Vmm::putLogger(const Json& body) {
  requirePreBoot();
  if (body.contains("log_path") && body["log_path"].is_string()) {
    const std::string path = body["log_path"].get<std::string>();
    UniqueFd file(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0644));
    if (!file) throw ApiError("Logger error: Failed to open target file: " + osError(errno));
    logFile_ = std::move(file);
  }
}

void Vmm::putMetrics(const Json& body) {
  requirePreBoot();
  if (metricsConfigured_)
    throw ApiError(
        "Metrics error: Cannot initialize the metrics system due to bad user input: "
        "Reinitialization of metrics not allowed.");
  const std::string path = body["metrics_path"].get<std::string>();
  UniqueFd file(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0644));
  if (!file)
    throw ApiError("Metrics error: Cannot initialize the metrics system due to bad user input: " +
                   osError(errno));
  metricsFile_ = std::move(file);
  metricsConfigured_ = true;
}

void Vmm::instanceStart() {
  requirePreBoot();
  if (!config_.bootSource)
    throw ApiError("Start microvm error: Cannot start microvm without kernel configuration.");
  // Released Firecracker loads only ELF kernels on x86_64 (a bzImage fails here).
  char magic[4] = {};
  if (pread(config_.bootSource->kernel.get(), magic, sizeof magic, 0) != sizeof magic ||
      std::memcmp(magic,
                  "\x7f"
                  "ELF",
                  4) != 0)
    throw ApiError(
        "Start microvm error: System configuration error: Cannot load kernel due to "
        "invalid memory configuration or invalid kernel image: Failed to load ELF "
        "kernel image: Invalid ELF magic number");
  try {
    backend_.start(config_, exit_);
  } catch (const ApiError& error) {
    throw ApiError(std::string("Start microvm error: ") + error.what());
  }
  state_ = State::Running;
  if (config_.vsock)
    muxer_ =
        std::make_unique<VsockMuxer>(std::move(config_.vsock->listener), config_.vsock->udsPath);
  log("Successfully started microvm that was configured from one single json");
}

Json Vmm::fullConfig() const {
  Json out;
  out["balloon"] = balloon_.is_null() ? Json(nullptr) : balloon_;
  Json drives = Json::array();
  for (const Drive& d : config_.drives) {
    Json drive = {{"drive_id", d.id},
                  {"partuuid", nullptr},
                  {"is_root_device", d.isRootDevice},
                  {"cache_type", d.cacheType},
                  {"is_read_only", d.isReadOnly},
                  {"path_on_host", d.pathOnHost},
                  {"rate_limiter", nullptr},
                  {"io_engine", d.ioEngine},
                  {"socket", nullptr}};
    if (d.partuuid) drive["partuuid"] = *d.partuuid;
    drives.push_back(drive);
  }
  out["drives"] = drives;
  if (config_.bootSource) {
    const BootSource& b = *config_.bootSource;
    out["boot-source"] = {{"kernel_image_path", b.kernelImagePath},
                          {"initrd_path", b.initrdPath ? Json(*b.initrdPath) : Json(nullptr)},
                          {"boot_args", b.bootArgs ? Json(*b.bootArgs) : Json(nullptr)}};
  } else {
    out["boot-source"] = {
        {"kernel_image_path", ""}, {"initrd_path", nullptr}, {"boot_args", nullptr}};
  }
  out["cpu-config"] = nullptr;
  out["logger"] = nullptr;
  const MachineConfig& m = config_.machine;
  out["machine-config"] = {{"vcpu_count", m.vcpuCount},
                           {"mem_size_mib", m.memSizeMib},
                           {"smt", m.smt},
                           {"track_dirty_pages", m.trackDirtyPages},
                           {"huge_pages", m.hugePages}};
  out["metrics"] = nullptr;
  out["mmds-config"] = mmdsConfig_.is_null() ? Json(nullptr) : mmdsConfig_;
  Json nets = Json::array();
  for (const NetworkInterface& n : config_.networkInterfaces)
    nets.push_back({{"iface_id", n.id},
                    {"host_dev_name", n.hostDevName},
                    {"guest_mac", n.guestMac ? Json(*n.guestMac) : Json(nullptr)},
                    {"rx_rate_limiter", nullptr},
                    {"tx_rate_limiter", nullptr}});
  out["network-interfaces"] = nets;
  out["vsock"] = config_.vsock ? Json{{"guest_cid", config_.vsock->guestCid},
                                      {"uds_path", config_.vsock->udsPath}}
                               : Json(nullptr);
  out["entropy"] = entropy_.is_null() ? Json(nullptr) : entropy_;
  return out;
}

}  // namespace fcfake
