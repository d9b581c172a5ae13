// libFuzzer target for what banger reads from a Debian mirror: Release text (after gpgv,
// but the mirror chose it), Packages stanzas and their versions. Never crashes; refusals
// are banger::Error; version order is antisymmetric.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "banger/errors.h"
#include "debian/deb822.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace debian = banger::image::debian;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const debian::Release release = debian::parseRelease(text);
    for (const auto& file : release.sha256)
      if (file.sha256.size() != 64 || file.path.empty()) std::abort();
  } catch (const banger::Error&) {
  }
  std::string previous;
  debian::forEachStanza(text, [&](std::string_view stanza) {
    const std::string version = debian::field(stanza, "Version").value_or("");
    debian::field(stanza, "Depends");
    if (debian::isValidVersion(version) && debian::isValidVersion(previous)) {
      const int forward = debian::compareVersions(version, previous);
      const int backward = debian::compareVersions(previous, version);
      if ((forward < 0) != (backward > 0) || (forward == 0) != (backward == 0)) std::abort();
    }
    previous = version;
    return true;
  });
  return 0;
}
