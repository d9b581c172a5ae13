// libFuzzer target for the manifest / index / config parser: any input is a document,
// or refused with banger::Error; nothing else escapes, crashes or leaks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "banger/errors.h"
#include "oci/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace banger::image::oci;
  for (std::string_view type : {std::string_view(), media::kOciIndex, media::kDockerManifest}) {
    try {
      Document doc = parseDocument(body, type);
      if (doc.kind == Document::Kind::Index) choosePlatform(doc);
    } catch (const banger::Error&) {
    }
  }
  try {
    parseImageConfig(body);
  } catch (const banger::Error&) {
  }
  return 0;
}
