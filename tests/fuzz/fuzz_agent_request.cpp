// libFuzzer target for banger-agent's request reader (bytes from the host's vsock): never
// crashes, never claims more bytes than it was given, refuses with an HTTP error status,
// and a complete request's path is a path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using banger::guest::RequestParse;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const RequestParse parse = banger::guest::parseRequest(bytes);
  switch (parse.state) {
    case RequestParse::State::Complete:
      if (parse.consumed == 0 || parse.consumed > size) std::abort();
      if (parse.request.path.empty() || parse.request.path.front() != '/') std::abort();
      break;
    case RequestParse::State::Refused:
      if (parse.status < 400 || parse.status > 599 || parse.reason.empty()) std::abort();
      break;
    case RequestParse::State::Incomplete:
      if (size > banger::guest::kMaxRequestHead) std::abort();  // must have been refused
      break;
  }
  return 0;
}
