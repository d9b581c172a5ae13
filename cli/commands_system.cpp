// `banger system install|status|restart|uninstall`: the host side of banger, as root.
// The program files come from the package or `meson install`; these make the host ready
// for them (group, D-Bus, systemd, .vm routing) and undo that, keeping every user's data.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "banger/text.h"
#include "child_process.h"
#include "commands.h"

namespace banger::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kGroup = "banger";

bool asRoot(const std::string& verb) {
  if (geteuid() == 0) return true;
  std::cerr << "banger: system " << verb
            << " changes this host (a group, D-Bus, systemd, resolved): run it as root, e.g. "
               "sudo banger system "
            << verb << "\n";
  return false;
}

void say(const std::string& line) { std::cout << "system: " << line << "\n"; }

// The user who ran sudo: the one to add to the group and whose VMs .vm names.
std::optional<passwd> invokingUser() {
  const char* name = std::getenv("SUDO_USER");
  if (name == nullptr || *name == '\0' || std::string(name) == "root") return std::nullopt;
  const passwd* user = getpwnam(name);
  if (user == nullptr) return std::nullopt;
  return *user;
}

bool inGroup(const std::string& user) {
  const group* g = getgrnam(kGroup);
  if (g == nullptr) return false;
  for (char** member = g->gr_mem; *member != nullptr; ++member)
    if (user == *member) return true;
  return false;
}

// Runs a program quietly; true when it exited 0.
bool quietly(std::vector<std::string> argv) {
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    line += shellQuote(word);
  }
  return std::system((line + " >/dev/null 2>&1").c_str()) == 0;
}

void callSystem(Buses& buses, const char* service, const char* path, const char* interface,
                const char* method, const std::string& did, const std::string& skipped) {
  try {
    sdbus::createProxy(buses.system(), service, path)->callMethod(method).onInterface(interface);
    say(did);
  } catch (const sdbus::Error& e) {
    say(skipped + " (" + e.getMessage() + ")");
  }
}

// Asks a systemd manager (the system's or the user's) to StopUnit/TryRestartUnit `unit`;
// says what happened in one line. True when systemd took it.
bool unitJob(sdbus::IConnection& bus, const char* method, const std::string& unit,
             const std::string& did) {
  try {
    sdbus::createProxy(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1")
        ->callMethod(method)
        .onInterface("org.freedesktop.systemd1.Manager")
        .withArguments(unit, std::string("replace"));
    say(did + " " + unit);
    return true;
  } catch (const sdbus::Error& e) {
    say(unit + ": " + method + " through systemd failed (" + e.getMessage() + ")");
    return false;
  }
}

void reloadManagers(Buses& buses) {
  callSystem(buses, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
             "ReloadConfig", "reloaded the system bus's policy and activation files",
             "could not reload the system bus");
  callSystem(buses, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
             "org.freedesktop.systemd1.Manager", "Reload", "reloaded systemd's units",
             "systemd is not reachable; its units are read at its next start");
}

int install(Buses& buses) {
  if (!asRoot("install")) return 1;
  int status = 0;
  if (getgrnam(kGroup) != nullptr) {
    say("group " + std::string(kGroup) + " exists");
  } else if (quietly({"groupadd", "--system", kGroup})) {
    say("created the group " + std::string(kGroup) + " (its members may use banger's network)");
  } else {
    std::cerr << "banger: groupadd --system " << kGroup << " failed\n";
    status = 1;
  }
  const auto user = invokingUser();
  if (!user) {
    say("no invoking user (not run through sudo): add each user with usermod -aG " +
        std::string(kGroup) + " NAME");
  } else if (inGroup(user->pw_name)) {
    say(std::string(user->pw_name) + " is in the group " + kGroup);
  } else if (quietly({"usermod", "-aG", kGroup, user->pw_name})) {
    say("added " + std::string(user->pw_name) + " to the group " + kGroup +
        " (log in again for it to apply)");
  } else {
    std::cerr << "banger: usermod -aG " << kGroup << " " << user->pw_name << " failed\n";
    status = 1;
  }
  reloadManagers(buses);
  say("nothing to enable: banger's services start on demand (D-Bus activation) and exit when idle");
  if (!user) {
    say(".vm routing is per user: run `banger dns route on` as the user whose VMs it names");
  } else {
    // As that user: the routing's owner is whoever turns it on (docs/dns-routing.md).
    const std::string uid = std::to_string(user->pw_uid), gid = std::to_string(user->pw_gid);
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    const int routed = runChild({"setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
                                 self.string(), "dns", "route", "on"},
                                nullptr);
    if (routed != 0)
      say(".vm is not routed (above why); banger vm ssh NAME works regardless, and "
          "`banger dns route on` tries again");
  }
  return status;
}

int uninstall(Buses& buses) {
  if (!asRoot("uninstall")) return 1;
  try {
    buses.net().ConfigureResolver(false);
    say("removed the .vm routing");
  } catch (const sdbus::Error& e) {
    say("no .vm routing to remove (" + e.getMessage() + ")");
  }
  unitJob(buses.system(), "StopUnit", "banger-net.service", "stopped");
  if (quietly({"ip", "link", "show", "banger0"}))
    say(quietly({"ip", "link", "delete", "banger0"}) ? "removed the bridge banger0"
                                                     : "could not remove the bridge banger0");
  if (quietly({"nft", "list", "table", "inet", "banger"}))
    say(quietly({"nft", "delete", "table", "inet", "banger"})
            ? "removed the nftables table inet banger"
            : "could not remove the nftables table inet banger");
  reloadManagers(buses);
  std::cout << "\nKept: every user's images, kernels and VMs, and the group " << kGroup
            << ". To remove everything:\n";
  if (const auto user = invokingUser()) {
    const fs::path home = user->pw_dir;
    for (const char* dir : {".local/state/banger", ".cache/banger", ".config/banger"})
      std::cout << "  rm -rf " << (home / dir).string() << "\n";
  } else {
    std::cout << "  rm -rf ~/.local/state/banger ~/.cache/banger ~/.config/banger   (each user)\n";
  }
  std::cout << "  rm -rf /var/lib/banger /etc/banger\n  groupdel " << kGroup << "\n";
  return 0;
}

int restart(Buses& buses) {
  if (geteuid() == 0) {
    unitJob(buses.system(), "TryRestartUnit", "banger-net.service", "restarted (if it ran)");
    say("your own services (vm, image, dns) restart from `banger system restart` without sudo");
    return 0;
  }
  // The user's services: stopped now, started again by their next call. Running VMs live
  // in units of their own and are re-adopted.
  bool restarted = true;
  for (const char* unit : {"banger-vm.service", "banger-image.service", "banger-dns.service"})
    restarted = unitJob(buses.user(), "TryRestartUnit", unit, "restarted (if it ran)") && restarted;
  return restarted ? 0 : 1;
}

}  // namespace

void addSystemCommands(CLI::App& app, Context& ctx) {
  auto* system =
      app.add_subcommand("system", "Install and inspect banger's services")->require_subcommand(1);
  auto* status = system->add_subcommand("status", "Show whether each service answers");
  onRun(status, ctx, [&ctx] {
    int failed = 0;
    for (const auto& service : kServices) {
      try {
        ping(ctx.buses, service);
        std::cout << service.busName << ": running\n";
      } catch (const sdbus::Error& e) {
        std::cout << service.busName << ": not reachable (" << e.getMessage() << ")\n";
        ++failed;
      }
    }
    return failed ? 1 : 0;
  });
  onRun(system->add_subcommand("install", "Ready this host for banger (as root)"), ctx,
        [&ctx] { return install(ctx.buses); });
  onRun(system->add_subcommand("uninstall",
                               "Undo install: routing, bridge, firewall table (keeps user data)"),
        ctx, [&ctx] { return uninstall(ctx.buses); });
  onRun(system->add_subcommand("restart", "Restart banger's services"), ctx,
        [&ctx] { return restart(ctx.buses); });
}

}  // namespace banger::cli
