// libFuzzer target for the Firecracker stand-ins' API reader (tests/fakes/core): the
// bytes a client writes to the API socket, read as micro-http reads them, and each body
// checked against one of the swagger definitions. Never crashes; a malformed request is
// a 400 with a JSON body; an accepted body stays accepted when written out and read back.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "http.h"
#include "spec.h"

namespace {

const std::vector<std::string>& definitionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, schema] : fcfake::Spec::v1_16_1().document()["definitions"].items())
      out.push_back(name);
    return out;
  }();
  return names;
}

void checkBody(const std::string& path, const std::string& body) {
  const fcfake::Spec& spec = fcfake::Spec::v1_16_1();
  const std::string& definition =
      definitionNames()[std::hash<std::string>{}(path) % definitionNames().size()];
  fcfake::Json accepted;
  try {
    accepted = spec.parse(definition, body);
  } catch (const fcfake::BodyError&) {
    return;
  }
  try {
    spec.parse(definition, accepted.dump());
  } catch (const fcfake::BodyError&) {
    std::abort();  // accepted once, refused when written back
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 200 * 1024) return 0;
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) return 0;
  const int buffer = 512 * 1024;
  setsockopt(ends[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  setsockopt(ends[1], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = write(ends[0], data + written, size - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  close(ends[0]);
  fcfake::HttpConnection connection(ends[1], 51200);
  while (connection.fill()) {
  }
  for (;;) {
    std::optional<fcfake::HttpResponse> error;
    const std::optional<fcfake::HttpRequest> request = connection.next(error);
    if (error) {
      if (error->status != 400) std::abort();
      if (!nlohmann::json::accept(error->body)) std::abort();
      (void)fcfake::serialize(*error);
      break;
    }
    if (!request) break;
    if (request->body) checkBody(request->path, *request->body);
  }
  return 0;
}
