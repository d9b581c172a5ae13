// The agent's HTTP/1.1 request reader: a request line and headers. The only body the agent
// takes is POST /exec's, chunked, which ExecService reads itself (chunked_body.h). Outside
// input from the host's vsock, so it is strict and bounded, and fuzzed
// (tests/fuzz/fuzz_agent_request.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace banger::guest {

inline constexpr std::size_t kMaxRequestHead = 8192;

struct HttpRequest {
  std::string method;
  std::string path;     // the target without its query
  std::string query{};  // what follows '?' in the target, as sent
  bool keepAlive = true;
  bool chunked = false;         // Transfer-Encoding: chunked; the body follows the head
  bool expectContinue = false;  // Expect: 100-continue
};

struct RequestParse {
  enum class State { Incomplete, Complete, Refused } state = State::Incomplete;
  HttpRequest request{};
  int status = 0;            // Refused: the status to answer with
  std::string reason{};      // Refused: why, for the answer's body
  std::size_t consumed = 0;  // Complete: bytes of `buffer` the request took
};

// Reads one request from the start of `buffer`.
RequestParse parseRequest(std::string_view buffer);

}  // namespace banger::guest
