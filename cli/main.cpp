// banger: the command line. A D-Bus client of banger's services and nothing more.
#include <iostream>

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors exit 2
  }
  try {
    return ctx.action ? ctx.action() : 0;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const sdbus::Error& e) {
    std::cerr << "banger: " << e.getMessage() << "\n";
    if (e.getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        e.getName() == "org.freedesktop.DBus.Error.NoReply") {
      std::cerr << "banger: is banger installed and the service activatable? run `banger doctor`\n";
    }
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "banger: " << e.what() << "\n";
    return 1;
  }
}
