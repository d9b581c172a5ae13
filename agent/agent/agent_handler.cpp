#include "agent_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "proc_sockets.h"
#include "whole_file.h"

extern char** environ;

namespace banger::guest {

namespace {

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 403:
      return "Forbidden";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

// Whether `query` (a=b&c=d) holds `parameter` (c=d) as one of its parts.
bool hasParameter(std::string_view query, std::string_view parameter) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    if (query.substr(0, amp) == parameter) return true;
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
  }
  return false;
}

}  // namespace

AgentHandler::AgentHandler(std::filesystem::path procRoot,
                           std::function<std::string()> systemdState)
    : procRoot_(std::move(procRoot)), systemdState_(std::move(systemdState)) {}

HttpAnswer errorAnswer(int status, const std::string& reason) {
  return {.status = status, .body = nlohmann::json{{"error", reason}}.dump() + "\n"};
}

HttpAnswer AgentHandler::answer(const HttpRequest& request) const {
  const bool known = request.path == "/healthz" || request.path == "/ports";
  if (!known) return errorAnswer(404, "no such path; the agent serves /healthz and /ports");
  if (request.method != "GET" && request.method != "HEAD") {
    HttpAnswer refused = errorAnswer(405, request.method + " is not allowed; use GET");
    refused.allowGet = true;
    return refused;
  }
  return {.status = 200,
          .body = request.path == "/healthz" ? health(!hasParameter(request.query, "systemd=no"))
                                             : ports()};
}

std::string AgentHandler::health(bool askSystemd) const {
  std::string bootId = readWholeFile(procRoot_ / "sys/kernel/random/boot_id");
  while (!bootId.empty() && (bootId.back() == '\n' || bootId.back() == ' ')) bootId.pop_back();
  double uptime = 0;
  std::istringstream(readWholeFile(procRoot_ / "uptime")) >> uptime;
  nlohmann::json body = {{"status", "ok"}, {"boot_id", bootId}, {"uptime_sec", uptime}};
  if (askSystemd) body["systemd"] = systemdState_();
  return body.dump() + "\n";
}

std::string AgentHandler::ports() const {
  nlohmann::json list = nlohmann::json::array();
  for (const ListeningSocket& socket : listeningSockets(procRoot_))
    list.push_back({{"proto", socket.proto},
                    {"address", socket.address},
                    {"port", socket.port},
                    {"process", socket.process},
                    {"pid", socket.pid}});
  return nlohmann::json{{"ports", list}}.dump() + "\n";
}

std::string renderAnswer(const HttpAnswer& answer, bool headOnly, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " " +
                    reasonPhrase(answer.status) + "\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
  if (answer.allowGet) out += "Allow: GET, HEAD\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!headOnly) out += answer.body;
  return out;
}

std::string systemdStateFromSystemctl() {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return "unknown";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = -1;
  std::string word;
  for (const char* systemctl : {"/usr/bin/systemctl", "/bin/systemctl"}) {
    char* const argv[] = {const_cast<char*>(systemctl), const_cast<char*>("is-system-running"),
                          nullptr};
    if (::posix_spawn(&child, systemctl, &actions, nullptr, argv, environ) == 0) break;
    child = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  if (child > 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    char buffer[64];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd readable{pipeFds[0], POLLIN, 0};
      if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
        ::kill(child, SIGKILL);
        break;
      }
      const ssize_t got = ::read(pipeFds[0], buffer, sizeof buffer);
      if (got <= 0) break;
      word.append(buffer, static_cast<std::size_t>(got));
      if (word.size() > 256) break;
    }
    ::waitpid(child, nullptr, 0);
  }
  ::close(pipeFds[0]);
  word = word.substr(0, word.find_first_of(" \n"));
  if (word == "initializing" || word == "starting") return "starting";
  for (const char* known : {"running", "degraded", "stopping", "maintenance", "offline"})
    if (word == known) return word;
  return "unknown";
}

}  // namespace banger::guest
