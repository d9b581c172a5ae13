#include "guest_fixture.h"

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "boot_params.h"
#include "debian_rootfs.h"
#include "harness.h"
#include "sim_image.h"
#include "tar_builder.h"
#include "test_registry.h"

#ifndef FIRECRACKER_SIM_BIN
#error "FIRECRACKER_SIM_BIN must name firecracker-sim"
#endif

namespace banger::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

struct PulledImage {
  fs::path rootfs, workSeed;
};

// Everything made once per run and torn down when the process ends.
struct Shared {
  TempDir temp;
  std::string skip;
  std::unique_ptr<TestRegistry> registry;
  std::unique_ptr<BusHarness> harness;
  std::map<std::string, PulledImage> images;
  fs::path vmlinux, initrd, sshKey;
  std::string netns;
  int taps = 0;
  std::vector<std::string> defaultImageStages;  // "stage: detail" of its pull, in order

  ~Shared() {
    if (!netns.empty()) shell("ip netns del " + netns);
  }
};

std::unique_ptr<Shared>& shared() {
  static std::unique_ptr<Shared> instance;
  return instance;
}

void must(const std::string& command) {
  const Shell result = shell(command);
  if (result.status != 0) throw std::runtime_error("failed: " + command + "\n" + result.out);
}

// Waits for an Image job; throws with its error unless it succeeded.
void waitJob(sdbus::IConnection& bus, const sdbus::ObjectPath& job, const std::string& what) {
  auto jobProxy = sdbus::createProxy(bus, "org.banger.Image", job);
  std::string state = "running";
  const auto deadline = std::chrono::steady_clock::now() + 900s;
  while (state == "running" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    state = jobProxy->getProperty("State").onInterface("org.banger.Job1").get<std::string>();
  }
  if (state != "succeeded")
    throw std::runtime_error(
        what + ": " + state + ": " +
        jobProxy->getProperty("ErrorMessage").onInterface("org.banger.Job1").get<std::string>());
}

std::string property(sdbus::IConnection& bus, const sdbus::ObjectPath& path,
                     const std::string& interface, const std::string& name) {
  return sdbus::createProxy(bus, "org.banger.Image", path)
      ->getProperty(name)
      .onInterface(interface)
      .get<std::string>();
}

// Pulls `ref` through the Image service as image `name`.
PulledImage pull(sdbus::IConnection& bus, const std::string& ref, const std::string& name) {
  auto manager = sdbus::createProxy(bus, "org.banger.Image", "/org/banger/Image");
  sdbus::ObjectPath image, job;
  manager->callMethod("Pull")
      .onInterface("org.banger.Image1.Manager")
      .withArguments(ref, std::map<std::string, sdbus::Variant>{{"name", sdbus::Variant(name)}})
      .storeResultsTo(image, job);
  waitJob(bus, job, "pulling " + ref);
  return {property(bus, image, "org.banger.Image1.Image", "RootfsPath"),
          property(bus, image, "org.banger.Image1.Image", "WorkSeedPath")};
}

// dpkg's status file without the stanzas of `packages`.
std::string withoutPackages(const std::string& status, const std::vector<std::string>& packages) {
  std::string out;
  std::size_t at = 0;
  while (at < status.size()) {
    std::size_t end = status.find("\n\n", at);
    end = end == std::string::npos ? status.size() : end + 2;
    const std::string stanza = status.substr(at, end - at);
    bool drop = false;
    for (const std::string& package : packages)
      drop = drop || stanza.starts_with("Package: " + package + "\n");
    if (!drop) out += stanza;
    at = end;
  }
  return out;
}

void build(Shared& s) {
  const std::optional<std::string> tar = debianRootfsTar(s.skip);
  if (!tar) return;
  s.registry = std::make_unique<TestRegistry>();
  s.harness = std::make_unique<BusHarness>(BusHarness::Options::sessionOnly());
  auto bus = s.harness->connectSession();
  std::mutex stagesMutex;
  auto stages = bus->addMatch("type='signal',interface='org.banger.Job1',member='StageChanged'",
                              [&](sdbus::Message& message) {
                                std::string stage, detail;
                                message >> stage >> detail;
                                std::lock_guard lock(stagesMutex);
                                s.defaultImageStages.push_back(stage + ": " + detail);
                              });
  bus->enterEventLoopAsync();
  // The default image, built by mmdebstrap from Debian's archive, and its kernel (pulled
  // with it): the real boot set, whose initrd holds banger-init and the guest modules.
  s.images["debian-bookworm"] = pull(*bus, "debian-bookworm", "debian-bookworm");
  std::this_thread::sleep_for(200ms);  // the last signals
  bus->leaveEventLoop();
  stages.reset();
  sdbus::ObjectPath kernel;
  sdbus::createProxy(*bus, "org.banger.Image", "/org/banger/Image")
      ->callMethod("FindKernel")
      .onInterface("org.banger.Image1.Manager")
      .withArguments(std::string("debian-cloud"))
      .storeResultsTo(kernel);
  s.vmlinux = property(*bus, kernel, "org.banger.Image1.Kernel", "VmlinuxPath");
  s.initrd = property(*bus, kernel, "org.banger.Image1.Kernel", "InitrdPath");

  // OCI images as most come: the tests' Debian rootfs without OpenSSH (sshd whited out,
  // the package gone from dpkg's database), and without systemd.
  OciLayout layout(s.temp.path() / "layout");
  const LayerBlob debian{readFile(*tar), "application/vnd.oci.image.layer.v1.tar", ""};
  TarBuilder noSshd;
  noSshd.file("usr/sbin/.wh.sshd", "");
  noSshd.file("var/lib/dpkg/status",
              withoutPackages(shell("tar -xOf '" + *tar + "' ./var/lib/dpkg/status").out,
                              {"openssh-server", "openssh-sftp-server"}));
  TarBuilder noSystemd;
  noSystemd.file("usr/lib/systemd/.wh.systemd", "");
  // And one whose sshd turns root away: it answers, but no login succeeds.
  TarBuilder denyRoot;
  denyRoot.file("etc/ssh/sshd_config.d/00-deny-root.conf", "DenyUsers root\n");
  layout.addImage({debian, {noSshd.bytes(), "application/vnd.oci.image.layer.v1.tar", ""}},
                  "nosshd");
  layout.addImage({debian, {noSystemd.bytes(), "application/vnd.oci.image.layer.v1.tar", ""}},
                  "nosystemd");
  layout.addImage({debian, {denyRoot.bytes(), "application/vnd.oci.image.layer.v1.tar", ""}},
                  "denyroot");
  for (const char* tag : {"nosshd", "nosystemd", "denyroot"}) {
    s.registry->push(layout, tag, "banger/guest");
    s.images[tag] = pull(*bus, s.registry->host() + "/banger/guest:" + tag, tag);
  }

  s.sshKey = s.temp.path() / "id_ed25519";
  must("ssh-keygen -q -t ed25519 -N '' -C guest-test -f '" + s.sshKey.string() + "'");

  s.netns = "bg-guest-" + std::to_string(getpid());
  must("ip netns add " + s.netns + " && ip -n " + s.netns + " link set lo up && ip -n " + s.netns +
       " link add br0 type bridge && ip -n " + s.netns +
       " addr add 10.78.0.1/24 dev br0 && ip -n " + s.netns + " link set br0 up");
}

// The VM's own disks: an empty overlay disk, and the image's work seed with the test's
// key in /root/.ssh/authorized_keys (0600 root, as the Vm service writes it).
void makeDisks(Shared& s, GuestVm& vm, const std::string& image) {
  fs::create_directories(vm.dir);
  vm.base = s.images.at(image).rootfs;
  vm.overlay = vm.dir / "overlay.ext4";
  vm.work = vm.dir / "work.ext4";
  must("truncate -s 1G '" + vm.overlay.string() + "' && mkfs.ext4 -q '" + vm.overlay.string() +
       "'");
  must("cp --sparse=always '" + s.images.at(image).workSeed.string() + "' '" + vm.work.string() +
       "' && chmod 0644 '" + vm.work.string() + "'");
  writeFile(vm.dir / "debugfs.cmd",
            "cd /.ssh\nwrite " + s.sshKey.string() + ".pub authorized_keys\n" +
                "set_inode_field authorized_keys mode 0100600\n" +
                "set_inode_field authorized_keys uid 0\nset_inode_field authorized_keys gid 0\n");
  must("debugfs -w -f '" + (vm.dir / "debugfs.cmd").string() + "' '" + vm.work.string() +
       "' >/dev/null");
}

void boot(GuestVm& vm, const std::string& tap) {
  Shared& s = *shared();
  std::vector<std::string> launcher;
  if (!tap.empty()) launcher = {"nsenter", "--net=/run/netns/" + s.netns};
  vm.sim = std::make_unique<fcfake::test::StandIn>(FIRECRACKER_SIM_BIN, vm.dir,
                                                   std::vector<std::string>{}, vm.name, launcher);
  const auto put = [&](const std::string& path, const Json& body) {
    const auto answer = vm.sim->call("PUT", path, body.dump());
    if (answer.status != 204)
      throw std::runtime_error("PUT " + path + ": " + std::to_string(answer.status) + " " +
                               answer.body);
  };
  put("/machine-config", {{"vcpu_count", 1}, {"mem_size_mib", 512}});
  Json bootSource = {{"kernel_image_path", s.vmlinux.string()}, {"boot_args", vm.bootArgs}};
  if (vm.initrd) bootSource["initrd_path"] = s.initrd.string();
  put("/boot-source", bootSource);
  put("/drives/base", {{"drive_id", "base"},
                       {"path_on_host", vm.base.string()},
                       {"is_root_device", true},
                       {"is_read_only", true}});
  put("/drives/overlay", {{"drive_id", "overlay"},
                          {"path_on_host", vm.overlay.string()},
                          {"is_root_device", false},
                          {"is_read_only", false}});
  put("/drives/work", {{"drive_id", "work"},
                       {"path_on_host", vm.work.string()},
                       {"is_root_device", false},
                       {"is_read_only", false}});
  if (!tap.empty())
    put("/network-interfaces/eth0", {{"iface_id", "eth0"},
                                     {"host_dev_name", tap},
                                     {"guest_mac", "06:00:0a:4e:00:0" + vm.address.substr(8)}});
  put("/vsock", {{"guest_cid", 3}, {"uds_path", (vm.dir / "v.sock").string()}});
  put("/serial", {{"serial_out_path", (vm.dir / "console.log").string()}});
  put("/actions", {{"action_type", "InstanceStart"}});
}

}  // namespace

void GuestFixture::SetUpSuite() {
  if (shared()) return;
  shared() = std::make_unique<Shared>();
  Shared& s = *shared();
  s.skip = fcfake::test::simUnavailable();
  if (!s.skip.empty()) return;
  try {
    build(s);
  } catch (const std::exception& error) {
    s.skip.clear();
    ADD_FAILURE() << "building the guest images: " << error.what();
    s.skip = std::string("setting up failed: ") + error.what();
  }
}

const std::string& GuestFixture::skipReason() { return shared()->skip; }

std::map<std::string, std::string> GuestFixture::clientEnvironment() {
  return shared()->harness->clientEnvironment();
}

GuestFixture::BootFiles GuestFixture::defaultBootFiles() {
  const Shared& s = *shared();
  return {s.images.at("debian-bookworm").rootfs.string(), s.vmlinux.string(), s.initrd.string()};
}

std::string GuestFixture::imageRootfs(const std::string& image) {
  return shared()->images.at(image).rootfs.string();
}

const std::vector<std::string>& GuestFixture::defaultImageStages() {
  return shared()->defaultImageStages;
}

GuestVm* GuestFixture::bootImage(const std::string& image, const std::string& name,
                                 const std::string& address,
                                 const std::vector<std::string>& nameservers) {
  Shared& s = *shared();
  auto vm = std::make_unique<GuestVm>();
  vm->name = name;
  vm->address = address;
  vm->dir = s.temp.path() / name;
  makeDisks(s, *vm, image);
  guest::BootParams params;
  params.baseDevice = "/dev/vda";
  params.overlayDevice = "/dev/vdb";
  params.workDevice = "/dev/vdc";
  params.network =
      guest::GuestNetwork{*Ipv4::parse(address), 24, Ipv4::parse("10.78.0.1"), 1400, {}};
  for (const std::string& server : nameservers)
    params.network->nameservers.push_back(*Ipv4::parse(server));
  params.hostname = name;
  vm->bootArgs = "console=ttyS0 reboot=k panic=1 " + guest::renderBootParams(params);
  const std::string tap = "tap" + std::to_string(s.taps++);
  must("ip -n " + s.netns + " tuntap add " + tap + " mode tap && ip -n " + s.netns + " link set " +
       tap + " master br0 up");
  vm->tap = tap;
  boot(*vm, tap);
  return vm.release();
}

GuestVm* GuestFixture::bootBroken(const std::string& image, const std::string& name,
                                  const std::string& bangerArgs, bool initrd) {
  Shared& s = *shared();
  auto vm = std::make_unique<GuestVm>();
  vm->name = name;
  vm->initrd = initrd;
  vm->dir = s.temp.path() / name;
  makeDisks(s, *vm, image);
  vm->bootArgs = "console=ttyS0 reboot=k panic=1 " + bangerArgs;
  boot(*vm, "");
  return vm.release();
}

namespace {
std::string sshTo(const std::string& address) {
  return "ip netns exec " + shared()->netns + " ssh -q -i '" + shared()->sshKey.string() +
         "' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
         "-o ConnectTimeout=3 root@" +
         address;
}
}  // namespace

Shell GuestVm::ssh(const std::string& command) const {
  return shell(sshTo(address) + " '" + command + "'");
}

Shell GuestVm::login(const std::string& input) const {
  return shell("printf '%s' '" + input + "' | " + sshTo(address) + " -tt");
}

bool GuestVm::sshReady(std::chrono::seconds timeout) const {
  return waitFor([&] { return ssh("true").status == 0; }, timeout);
}

std::string GuestVm::agent(const std::string& path) const {
  const int fd = fcfake::test::connectUnix((dir / "v.sock").string(), std::chrono::seconds(5));
  if (fd < 0) return "";
  const std::string request = "CONNECT 1024\nGET " + path + " HTTP/1.0\r\n\r\n";
  std::string reply;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
      reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  // "OK <port>\n", then the agent's HTTP answer.
  const std::size_t status = reply.find("HTTP/1.1 200 OK\r\n");
  const std::size_t body = reply.find("\r\n\r\n");
  if (!reply.starts_with("OK ") || status == std::string::npos || body == std::string::npos)
    return "";
  return reply.substr(body + 4);
}

std::string GuestVm::console() const { return readFile(dir / "console.log"); }

std::string GuestVm::diagnostics() const {
  return "console:\n" + console() + "\nsimulator:\n" + readFile(dir / "stderr.out");
}

void GuestVm::restart() {
  sim.reset();
  fs::remove(dir / "api.sock");
  fs::remove(dir / "v.sock");
  fs::rename(dir / "console.log", dir / "console.previous.log");
  boot(*this, tap);
}

}  // namespace banger::test
