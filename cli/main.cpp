// banger: the command line. A D-Bus client of banger's services and nothing more.
#include <algorithm>
#include <iostream>
#include <string_view>

#include "banger_build_config.h"
#include "commands.h"

int main(int argc, char** argv) {
  using namespace banger::cli;
  CLI::App app("banger: one-command sandboxes on Firecracker microVMs", "banger");
  app.set_version_flag("--version", std::string("banger ") + BANGER_VERSION);
  app.require_subcommand(1);
  Context ctx;
  addVmCommands(app, ctx);
  addImageCommands(app, ctx);
  addKernelCommands(app, ctx);
  addDnsCommands(app, ctx);
  addHostCommands(app, ctx);

  // Split at the first "--": CLI11 would pour the remote command into the first free
  // positional (vm run's PATH).
  std::vector<char*> args(argv, argv + argc);
  auto dashdash = std::find_if(args.begin() + 1, args.end(),
                               [](const char* a) { return std::string_view(a) == "--"; });
  const bool hasRemoteCommand = dashdash != args.end();
  if (hasRemoteCommand) {
    ctx.remoteCommand.assign(dashdash + 1, args.end());
    args.erase(dashdash, args.end());
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors exit 2
  }
  if (hasRemoteCommand && !ctx.takesRemoteCommand) {
    std::cerr << "banger: only `vm run` and `vm ssh` take a command after --\n";
    return 2;
  }
  try {
    return ctx.action ? ctx.action() : 0;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const sdbus::Error& e) {
    std::cerr << "banger: " << e.getMessage() << "\n";
    if (e.getMessage().find("Failed to open bus") != std::string::npos) {
      std::cerr << "banger: no D-Bus session bus here; banger needs a login session with a user "
                   "bus (or run it under dbus-run-session)\n";
    } else if (e.getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
               e.getName() == "org.freedesktop.DBus.Error.NoReply") {
      std::cerr << "banger: is banger installed and the service activatable? run `banger doctor`\n";
    }
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "banger: " << e.what() << "\n";
    return 1;
  }
}
