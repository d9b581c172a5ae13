// The command groups of `banger`. Each add* function registers its subcommands; a
// subcommand's work is stored in Context::action and run after parsing succeeds.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "bus_client.h"

namespace banger::cli {

struct Context {
  Buses buses;
  std::function<int()> action;
  // What followed the first "--" on the command line: the command of `vm run`/`vm ssh`.
  std::vector<std::string> remoteCommand;
  bool takesRemoteCommand = false;
};

void addVmCommands(CLI::App& app, Context& ctx);
void addImageCommands(CLI::App& app, Context& ctx);
void addKernelCommands(CLI::App& app, Context& ctx);
void addDnsCommands(CLI::App& app, Context& ctx);
void addHostCommands(CLI::App& app, Context& ctx);  // doctor, ssh-config, completion, system
void addSystemCommands(CLI::App& app, Context& ctx);

// Sets what `sub` does when chosen.
inline void onRun(CLI::App* sub, Context& ctx, std::function<int()> action) {
  sub->callback([&ctx, action = std::move(action)] { ctx.action = action; });
}

}  // namespace banger::cli
