#include "stand_in.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fcfake::test {

std::string ApiAnswer::fault() const {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("fault_message")) return "";
  return json["fault_message"].get<std::string>();
}

StandIn::StandIn(const std::string& binary, const std::filesystem::path& dir,
                 std::vector<std::string> extra, const std::string& id,
                 std::vector<std::string> launcher)
    : dir_(dir) {
  std::filesystem::create_directories(dir_);
  std::vector<std::string> args = std::move(launcher);
  for (const std::string& arg :
       {binary, std::string("--api-sock"), apiSock(), std::string("--id"), id})
    args.push_back(arg);
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ == 0) {
    const int out = open((dir_ / "console.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open((dir_ / "stderr.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no stand-in behind
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  // A connect, not the socket file: bind() creates the file before listen() lets anyone
  // in, and a request in between is refused.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (const int probe = connectUnix(apiSock(), std::chrono::seconds(1)); probe >= 0) {
      close(probe);
      return;
    }
    if (wait(std::chrono::milliseconds(0))) return;  // it exited: the test looks at why
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(binary + " did not listen on its API socket within 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

StandIn::~StandIn() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(30));
  }
}

ApiAnswer StandIn::call(const std::string& method, const std::string& path,
                        const std::optional<std::string>& body) const {
  banger::http::Request request;
  request.method = method;
  request.url = "http://localhost" + path;
  request.unixSocket = apiSock();
  request.body = body;
  if (body) request.headers.push_back("Content-Type: application/json");
  request.totalTimeout = std::chrono::seconds(30);
  const banger::http::Response response = banger::http::Client().fetch(request);
  return {response.status, response.body};
}

ApiAnswer StandIn::callAs(uid_t uid, const std::string& method, const std::string& path,
                          const std::string& body) const {
  int channel[2];
  if (pipe2(channel, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t child = fork();
  if (child == 0) {
    close(channel[0]);
    std::string out = "0\ncould not become uid " + std::to_string(uid);
    if (setresgid(uid, uid, uid) == 0 && setresuid(uid, uid, uid) == 0) {
      try {
        const ApiAnswer answer = call(method, path, body);
        out = std::to_string(answer.status) + "\n" + answer.body;
      } catch (const std::exception& error) {
        out = std::string("0\n") + error.what();
      }
    }
    [[maybe_unused]] ssize_t n = write(channel[1], out.data(), out.size());
    _exit(0);
  }
  close(channel[1]);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = read(channel[0], buffer, sizeof buffer)) > 0;)
    out.append(buffer, static_cast<std::size_t>(n));
  close(channel[0]);
  waitpid(child, nullptr, 0);
  const std::size_t newline = out.find('\n');
  if (newline == std::string::npos)
    throw std::runtime_error("the call as uid " + std::to_string(uid) + " said nothing");
  return {std::stol(out.substr(0, newline)), out.substr(newline + 1)};
}

std::optional<int> StandIn::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void StandIn::kill(int signal) { ::kill(pid_, signal); }

std::string StandIn::console() const {
  std::ifstream in(dir_ / "console.out");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return address;
}

}  // namespace

int connectUnix(const std::string& path, std::chrono::seconds receiveTimeout) {
  const sockaddr_un address = unixAddress(path);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  timeval timeout{receiveTimeout.count(), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

int listenUnix(const std::string& path) {
  const sockaddr_un address = unixAddress(path);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string vsockExchange(const std::string& udsPath, unsigned port, const std::string& message,
                          std::chrono::seconds receiveTimeout) {
  const int fd = connectUnix(udsPath, receiveTimeout);
  if (fd < 0) return "";
  const std::string connect = "CONNECT " + std::to_string(port) + "\n";
  std::string out;
  char buffer[256];
  if (send(fd, connect.data(), connect.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(connect.size()))
    for (ssize_t n;
         out.find('\n') == std::string::npos && (n = recv(fd, buffer, sizeof buffer, 0)) > 0;)
      out.append(buffer, static_cast<std::size_t>(n));
  const std::size_t answered = out.find('\n');
  if (answered != std::string::npos && send(fd, message.data(), message.size(), MSG_NOSIGNAL) ==
                                           static_cast<ssize_t>(message.size()))
    for (ssize_t n; out.size() < answered + 1 + message.size() &&
                    (n = recv(fd, buffer, sizeof buffer, 0)) > 0;)
      out.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

std::filesystem::path writeFakeKernel(const std::filesystem::path& dir) {
  const std::filesystem::path kernel = dir / "vmlinux";
  std::ofstream(kernel) << "\x7f"
                           "ELF"
                        << std::string(60, '\0');
  return kernel;
}

}  // namespace fcfake::test
