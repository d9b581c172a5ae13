#include "firecracker_main.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "http.h"
#include "vmm.h"

namespace fcfake {

namespace {

constexpr const char* kVersionLine = "Firecracker v1.16.1\n";

class ArgumentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const std::set<std::string> kValueFlags = {"api-sock",
                                           "id",
                                           "config-file",
                                           "log-path",
                                           "level",
                                           "module",
                                           "metrics-path",
                                           "seccomp-filter",
                                           "start-time-us",
                                           "start-time-cpu-us",
                                           "parent-cpu-time-us",
                                           "http-api-max-payload-size",
                                           "mmds-size-limit",
                                           "metadata",
                                           "describe-snapshot"};
const std::set<std::string> kBoolFlags = {"no-api",          "boot-timer", "show-level",
                                          "show-log-origin", "no-seccomp", "enable-pci",
                                          "version",         "help",       "snapshot-version"};

RunOptions parseArguments(int argc, char** argv, const std::set<std::string>& extraFlags,
                          std::map<std::string, std::string>& seen) {
  RunOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      throw ArgumentError("Found argument '" + arg +
                          "' which wasn't expected, or isn't valid in this context.");
    const std::string name = arg.substr(2);
    const bool takesValue = kValueFlags.count(name) || extraFlags.count(name);
    if (!takesValue && !kBoolFlags.count(name))
      throw ArgumentError("Found argument '" + name +
                          "' which wasn't expected, or isn't valid in this context.");
    if (seen.count(name))
      throw ArgumentError("The argument '" + name + "' was provided more than once.");
    std::string value;
    if (takesValue) {
      if (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)
        throw ArgumentError("The argument '" + name + "' requires a value, but none was supplied.");
      value = argv[++i];
    }
    seen[name] = value;
  }
  if (seen.count("no-api") && !seen.count("config-file"))
    throw ArgumentError("Argument 'config-file' required, but not found.");
  if (seen.count("seccomp-filter") && seen.count("no-seccomp"))
    throw ArgumentError(
        "Argument 'no-seccomp' cannot be used together with argument "
        "'seccomp-filter'.");
  for (const auto& [name, value] : seen) {
    if (name == "api-sock") options.apiSock = value;
    if (name == "id") options.id = value;
    if (name == "config-file") options.configFile = value;
    if (name == "no-api") options.noApi = true;
    if (name == "log-path") options.logPath = value;
    if (name == "level") options.level = value;
    if (name == "boot-timer") options.bootTimer = true;
    if (name == "enable-pci") options.enablePci = true;
    if (name == "http-api-max-payload-size") options.maxPayload = std::stoul(value);
    if (extraFlags.count(name)) options.extra[name] = value;
  }
  return options;
}

bool validInstanceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '-') return false;
  return true;
}

// Ends the process with the first code asked for; any thread may ask.
class ExitSignal {
 public:
  ExitSignal() : fd_(eventfd(0, EFD_CLOEXEC)) {}
  void request(int code) {
    int expected = -1;
    code_.compare_exchange_strong(expected, code);
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(fd_.get(), &one, sizeof one);
  }
  int fd() const { return fd_.get(); }
  int code() const { return code_.load(); }

 private:
  UniqueFd fd_;
  std::atomic<int> code_{-1};
};

// Firecracker leaves SIGTERM/SIGINT to their default action; the stand-in first makes
// sure its guest dies with it.
void watchSignals(Backend& backend) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, &backend] {
    int sig = 0;
    sigwait(&set, &sig);
    backend.terminate();
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    kill(getpid(), sig);
  }).detach();
}

HttpRequest internalRequest(const std::string& method, const std::string& path, const Json& body) {
  HttpRequest request;
  request.method = method;
  request.path = path;
  request.body = body.dump();
  request.peerUid = getuid();
  return request;
}

// --config-file: the same resources through the same checks as the API, then boot.
void configureFromFile(Vmm& vmm, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ApiError("Unable to open or read from the configuration file " + path);
  std::stringstream text;
  text << in.rdbuf();
  Json config;
  try {
    config = Json::parse(text.str());
  } catch (const Json::parse_error& error) {
    throw ApiError(std::string("Failed to build MicroVM from Json: Invalid JSON: ") + error.what());
  }
  static const std::vector<std::string> kSingles = {
      "logger",  "metrics", "machine-config", "boot-source", "vsock",
      "entropy", "balloon", "cpu-config",     "mmds-config", "memory-hotplug"};
  static const std::set<std::string> kLists = {"drives", "network-interfaces", "pmem"};
  if (!config.is_object()) throw ApiError("Failed to build MicroVM from Json: not a JSON object");
  for (const auto& [key, value] : config.items())
    if (!kLists.count(key) && std::find(kSingles.begin(), kSingles.end(), key) == kSingles.end())
      throw ApiError("Failed to build MicroVM from Json: Invalid JSON: unknown field `" + key +
                     "`");
  if (!config.contains("boot-source"))
    throw ApiError("Failed to build MicroVM from Json: Invalid JSON: missing field `boot-source`");
  std::vector<HttpRequest> requests;
  for (const std::string& key : {std::string("logger"), std::string("metrics"),
                                 std::string("machine-config"), std::string("boot-source")})
    if (config.contains(key) && !config[key].is_null())
      requests.push_back(internalRequest("PUT", "/" + key, config[key]));
  for (const char* list : {"drives", "network-interfaces", "pmem"}) {
    if (!config.contains(list) || config[list].is_null()) continue;
    const char* idKey = std::string(list) == "drives" ? "drive_id"
                        : std::string(list) == "pmem" ? "id"
                                                      : "iface_id";
    for (const auto& item : config[list])
      requests.push_back(internalRequest(
          "PUT", std::string("/") + list + "/" + item.value(idKey, std::string()), item));
  }
  const std::map<std::string, std::string> paths = {{"vsock", "/vsock"},
                                                    {"entropy", "/entropy"},
                                                    {"balloon", "/balloon"},
                                                    {"cpu-config", "/cpu-config"},
                                                    {"mmds-config", "/mmds/config"},
                                                    {"memory-hotplug", "/hotplug/memory"}};
  for (const auto& [key, path] : paths)
    if (config.contains(key) && !config[key].is_null())
      requests.push_back(internalRequest("PUT", path, config[key]));
  requests.push_back(internalRequest("PUT", "/actions", Json{{"action_type", "InstanceStart"}}));
  for (const HttpRequest& request : requests) {
    const HttpResponse response = vmm.handle(request);
    if (response.status >= 300) {
      const Json fault = Json::parse(response.body, nullptr, false);
      throw ApiError("Failed to build MicroVM from Json: " + request.path + ": " +
                     fault.value("fault_message", response.body));
    }
  }
}

int bindApiSocket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return -1;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int firecrackerMain(int argc, char** argv, const std::set<std::string>& extraFlags,
                    const BackendFactory& makeBackend) {
  std::map<std::string, std::string> seen;
  RunOptions options;
  try {
    options = parseArguments(argc, argv, extraFlags, seen);
  } catch (const std::exception& error) {
    std::fprintf(stderr,
                 "Error: Arguments parsing error: %s \n\nFor more information try --help.\n",
                 error.what());
    return kExitArgParsing;
  }
  if (seen.count("version") || seen.count("help")) {
    std::fputs(kVersionLine, stdout);
    return kExitOk;
  }
  if (!validInstanceId(options.id)) {
    std::fprintf(stderr, "Invalid instance ID: %s\n", options.id.c_str());
    return kExitGeneric;
  }
  static const std::set<std::string> kLevels = {"error", "warning", "warn", "info",
                                                "debug", "trace",   "off"};
  std::string level = options.level;
  for (char& c : level) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!kLevels.count(level)) {
    std::fprintf(stderr,
                 "Error: Invalid value for logger level: %s.Possible values: [Error, "
                 "Warning, Info, Debug]\n",
                 options.level.c_str());
    return kExitBadConfiguration;
  }

  std::unique_ptr<Backend> backend;
  try {
    backend = makeBackend(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "Error: %s\n", error.what());
    return kExitGeneric;
  }
  watchSignals(*backend);
  ExitSignal exit;
  Vmm vmm(*backend, {options.id, options.enablePci, options.bootTimer},
          [&exit](int code) { exit.request(code); });
  if (options.logPath) {
    const HttpResponse response =
        vmm.handle(internalRequest("PUT", "/logger", Json{{"log_path", *options.logPath}}));
    if (response.status >= 300) {
      std::fprintf(stderr, "Error: Could not initialize logger: %s\n", response.body.c_str());
      return kExitGeneric;
    }
  }
  vmm.log("Running Firecracker v1.16.1");

  int listener = -1;
  if (!options.noApi) {
    listener = bindApiSocket(options.apiSock);
    if (listener < 0) {
      std::fprintf(stderr,
                   "Error: RunWithApiError error: Failed to open the API socket at: %s. Check "
                   "that it is not already used.\n",
                   options.apiSock.c_str());
      return kExitGeneric;
    }
  }
  if (options.configFile) {
    try {
      configureFromFile(vmm, *options.configFile);
    } catch (const ApiError& error) {
      std::fprintf(stderr, "Error: %s\n", error.what());
      backend->terminate();
      return kExitBadConfiguration;
    }
  }
  if (listener >= 0) {
    serveHttp(listener, exit.fd(), options.maxPayload,
              [&vmm](const HttpRequest& request) { return vmm.handle(request); });
  } else {
    pollfd wait{exit.fd(), POLLIN, 0};
    while (poll(&wait, 1, -1) < 0 && errno == EINTR) {
    }
  }
  backend->terminate();
  const int code = exit.code() < 0 ? kExitGeneric : exit.code();
  vmm.log("Firecracker exiting " + std::string(code == 0 ? "successfully" : "with error") +
          ". exit_code=" + std::to_string(code));
  std::fflush(stdout);
  // Never unlink the API socket: Firecracker leaves it for its caller to remove.
  _exit(code);
}

}  // namespace fcfake
