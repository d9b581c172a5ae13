#include "banger/daemon.h"

#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "banger/config.h"
#include "banger/log.h"
#include "banger/paths.h"
#include "banger_build_config.h"

namespace banger {

std::string introspectionDocument(std::string_view interfacesXml) {
  return std::string(
             "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
             " \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n") +
         std::string(interfacesXml) + "</node>\n";
}

namespace {
// User services honour log_level from config.toml unless --log-level was given. A
// broken config is reported by the calls that need it; here it only costs the level.
void applyConfiguredLogLevel() {
  try {
    const auto paths = UserPaths::resolve(processEnvironment());
    log::Level level;
    if (auto configured = loadConfig(paths.configFile(), paths.home).logLevel;
        configured && log::parseLevel(*configured, level)) {
      log::setLevel(level);
    }
  } catch (const std::exception& e) {
    log::warning(std::string("ignoring log_level: ") + e.what());
  }
}

std::unique_ptr<sdbus::IConnection> connect(BusKind bus) {
  return bus == BusKind::System ? sdbus::createSystemBusConnection()
                                : sdbus::createSessionBusConnection();
}
}  // namespace

int runDaemon(int argc, char** argv, const DaemonSpec& spec, const ServiceFactory& factory) {
  CLI::App app(spec.summary, spec.program);
  bool introspect = false;
  unsigned idleSeconds = static_cast<unsigned>(std::stoul(BANGER_DEFAULT_IDLE_SEC));
  std::string logLevel = "info";
  app.add_flag("--introspect", introspect,
               "Print the D-Bus interfaces this service implements and exit");
  app.add_option("--idle-timeout", idleSeconds,
                 "Exit after this many seconds without calls (0 = never)")
      ->capture_default_str();
  app.add_option("--log-level", logLevel, "error, warning, info or debug")->capture_default_str();
  app.set_version_flag("--version", std::string(BANGER_VERSION));
  CLI11_PARSE(app, argc, argv);

  if (introspect) {
    std::cout << introspectionDocument(spec.interfacesXml);
    return 0;
  }
  log::setIdentity(spec.program);
  log::Level level;
  if (!log::parseLevel(logLevel, level)) {
    std::cerr << spec.program << ": --log-level must be error, warning, info or debug\n";
    return 2;
  }
  log::setLevel(level);
  if (spec.bus == BusKind::User && app.count("--log-level") == 0) applyConfiguredLogLevel();

  // The services wait on I/O far more than they allocate: glibc's per-thread arenas (one
  // per worker, ~200 KiB resident each once used) would cost more memory than their lock
  // contention could ever save.
  mallopt(M_ARENA_MAX, 2);

  // Blocked before any thread exists, so only the event loop's signalfd sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    auto connection = connect(spec.bus);
    EventLoop loop(*connection);
    // A refused call may have been megabytes: once it is freed, give the heap back.
    MessageBudgetGuard budgetGuard(*connection, spec.budget,
                                   [&loop] { loop.post([] { malloc_trim(0); }); });
    // After a burst of work (twenty creates), the freed heap goes back to the system.
    auto pool = std::make_unique<WorkerPool>(spec.workerThreads, spec.workQueueCapacity,
                                             [] { malloc_trim(0); });
    CallGuard guard;
    ServiceContext context{*connection, loop, *pool, guard};
    auto service = factory(context);
    // Work still on the pool may use the service's objects: on every way out, even an
    // exception, the pool is drained before the service is destroyed.
    struct DrainPoolFirst {
      std::unique_ptr<WorkerPool>& pool;
      ~DrainPoolFirst() { pool.reset(); }
    } drainPoolFirst{pool};
    connection->requestName(spec.busName);
    log::info("serving " + spec.busName +
              (idleSeconds ? ", exiting after " + std::to_string(idleSeconds) + " s idle" : ""));

    std::function<void()> checkIdle = [&] {
      const auto idleFor = CallGuard::Clock::now() - guard.lastActivity();
      if (!service->busy() && idleFor >= std::chrono::seconds(idleSeconds)) {
        log::info("idle for " + std::to_string(idleSeconds) + " s, exiting");
        loop.stop();
        return;
      }
      loop.addTimer(std::chrono::milliseconds(250), checkIdle);
    };
    if (idleSeconds > 0) loop.addTimer(std::chrono::milliseconds(250), checkIdle);

    loop.run();
    try {
      connection->releaseName(spec.busName);
    } catch (const sdbus::Error& e) {
      log::warning("releasing " + spec.busName + ": " + e.getMessage());
    }
    return 0;
  } catch (const sdbus::Error& e) {
    if (e.getName() == "org.freedesktop.DBus.Error.Disconnected") {
      // The bus itself went away (the session ended, or the bus was restarted): nothing
      // is left to serve, and nothing went wrong here.
      log::info("the bus connection closed; exiting");
      return 0;
    }
    log::error("D-Bus failure: " + e.getName() + ": " + e.getMessage() +
               (spec.bus == BusKind::System
                    ? " (is the system bus policy for " + spec.busName +
                          " installed in /usr/share/dbus-1/system.d?)"
                    : " (is a session bus running? check DBUS_SESSION_BUS_ADDRESS)"));
  } catch (const std::exception& e) {
    log::error(std::string("fatal: ") + e.what());
  }
  return 1;
}

}  // namespace banger
