// OCI image references as users type them: `alpine:3.20` is docker.io/library/alpine:3.20,
// `127.0.0.1:5000/team/app@sha256:…` names a local registry and a digest.
#pragma once

#include <string>
#include <string_view>

namespace banger::image::oci {

struct Reference {
  std::string registry;    // as written, e.g. "docker.io", "127.0.0.1:5000"
  std::string apiHost;     // where the v2 API is: "registry-1.docker.io" for docker.io
  std::string repository;  // "library/alpine"
  std::string tag;         // "latest" when none was given
  std::string digest;      // "sha256:<64 hex>" when given; wins over the tag

  // What to ask /v2/<repository>/manifests/ for.
  const std::string& manifestReference() const { return digest.empty() ? tag : digest; }
  // docker.io/library/alpine:3.20, or …@sha256:… when pulled by digest.
  std::string canonical() const;
};

// Throws InvalidArgument naming the reference and what is wrong with it.
Reference parseReference(std::string_view text);

// Whether `digest` is "sha256:" and 64 lower-case hex digits.
bool isSha256Digest(std::string_view digest);

}  // namespace banger::image::oci
