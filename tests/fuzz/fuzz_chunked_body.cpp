// libFuzzer target for banger-agent's chunked body reader (POST /exec, bytes from the
// host's vsock): never crashes, never gives out more payload than it was given, and the
// verdict does not depend on how the bytes were split: whole, and in two pieces at a point
// the input's first byte picks, the same payload and the same state.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chunked_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using banger::guest::ChunkedDecoder;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ChunkedDecoder whole;
  std::string wholeOut;
  const ChunkedDecoder::State wholeState = whole.feed(bytes, wholeOut);
  if (wholeOut.size() > size || whole.consumed() > size) std::abort();
  if (wholeState == ChunkedDecoder::State::Refused && whole.reason().empty()) std::abort();

  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  ChunkedDecoder split;
  std::string splitOut;
  ChunkedDecoder::State state = split.feed(bytes.substr(0, cut), splitOut);
  std::size_t consumed = split.consumed();
  if (state == ChunkedDecoder::State::More) {
    state = split.feed(bytes.substr(cut), splitOut);
    consumed = cut + split.consumed();
  }
  if (state != wholeState || splitOut != wholeOut) std::abort();
  if (state == ChunkedDecoder::State::Done && consumed != whole.consumed()) std::abort();
  return 0;
}
