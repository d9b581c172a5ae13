#include "sim_image.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "banger/files.h"
#include "debian_rootfs.h"
#include "harness.h"

#ifndef VSOCK_PROBE_BIN
#error "VSOCK_PROBE_BIN must name the static vsock-probe binary"
#endif

namespace fcfake::test {

namespace {

namespace fs = std::filesystem;

void run(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

const char* kNetScript = R"(#!/bin/sh
# eth0 from the command line the simulator puts over /proc/cmdline.
for word in $(cat /proc/cmdline); do
  case "$word" in
    sim.ip=*) address=${word#sim.ip=} ;;
    sim.gw=*) gateway=${word#sim.gw=} ;;
  esac
done
ip link set lo up
ip link set eth0 up
[ -n "$address" ] && ip addr add "$address" dev eth0
[ -n "$gateway" ] && ip route add default via "$gateway"
exit 0
)";

const char* kNetUnit = R"([Unit]
Description=eth0 from sim.ip= and sim.gw=
Before=network.target ssh.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/sim-net
[Install]
WantedBy=multi-user.target
)";

const char* kEchoUnit = R"([Unit]
Description=vsock echo on port 5000
[Service]
ExecStart=/usr/local/bin/vsock-probe listen 5000
[Install]
WantedBy=multi-user.target
)";

const char* kHelloUnit = R"UNIT([Unit]
Description=a greeting to the host's vsock port 6000
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'exec /usr/local/bin/vsock-probe dial 6000 "hello from $(hostname)"'
[Install]
WantedBy=multi-user.target
)UNIT";

}  // namespace

std::string simUnavailable() {
  if (geteuid() != 0)
    return "the guest simulator needs root (loop devices, namespaces, systemd-nspawn)";
  if (banger::findExecutable("systemd-nspawn", getenv("PATH") ? getenv("PATH") : "").empty())
    return "systemd-nspawn is missing (package systemd-container)";
  return "";
}

std::optional<SimImage> simImage(std::string& why) {
  const fs::path dir = fs::path(BANGER_BUILD_DIR) / "sim-guest";
  SimImage image{dir / "rootfs.ext4", dir / "id_ed25519"};
  if (fs::exists(image.rootfs) && fs::exists(image.sshKey)) return image;
  const std::optional<std::string> tar = banger::test::debianRootfsTar(why);
  if (!tar) return std::nullopt;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path tree = dir / "tree";
  fs::create_directories(tree);
  run("tar -xpf '" + *tar + "' -C '" + tree.string() + "'");
  run("ssh-keygen -q -t ed25519 -N '' -C sim-test -f '" + image.sshKey.string() + "'");
  fs::create_directories(tree / "root/.ssh");
  fs::permissions(tree / "root/.ssh", fs::perms::owner_all);
  fs::copy_file(image.sshKey.string() + ".pub", tree / "root/.ssh/authorized_keys");
  banger::test::writeFile(tree / "usr/local/sbin/sim-net", kNetScript);
  fs::permissions(tree / "usr/local/sbin/sim-net",
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  fs::copy_file(VSOCK_PROBE_BIN, tree / "usr/local/bin/vsock-probe");
  // The host's iperf3 (Debian 12 like the guest) and the libraries the guest lacks, for
  // the simulator's benchmark; the image's own package set stays the tests' recipe.
  run("cp /usr/bin/iperf3 '" + tree.string() + "/usr/local/bin/' && for lib in $(ldd " +
      "/usr/bin/iperf3 | awk '/=> \\//{print $3}'); do [ -e '" + tree.string() +
      "'$lib ] || cp -L $lib '" + tree.string() + "'$lib; done");
  const fs::path units = tree / "etc/systemd/system";
  const fs::path wants = units / "multi-user.target.wants";
  fs::create_directories(wants);
  for (const auto& [name, text] :
       {std::pair{"sim-net.service", kNetUnit}, std::pair{"vsock-echo.service", kEchoUnit},
        std::pair{"vsock-hello.service", kHelloUnit}}) {
    banger::test::writeFile(units / name, text);
    fs::create_symlink(std::string("/etc/systemd/system/") + name, wants / name);
  }
  const fs::path partial = dir / "rootfs.partial.ext4";
  run("truncate -s 1G '" + partial.string() + "' && mkfs.ext4 -q -d '" + tree.string() + "' '" +
      partial.string() + "'");
  fs::remove_all(tree);
  fs::rename(partial, image.rootfs);
  return image;
}

}  // namespace fcfake::test
