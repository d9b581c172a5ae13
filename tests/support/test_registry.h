// A local `docker-registry` (the distribution registry) on loopback with its storage in a
// temp dir, and OCI layouts built in the test and pushed with skopeo: what the Image
// service's pulls are tested against.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace banger::test {

struct LayerBlob {
  std::string bytes;
  std::string mediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
  std::string diffId{};  // sha256 of the uncompressed tar; empty: the blob's own digest
};

// An OCI image layout on disk (oci-layout, index.json, blobs/sha256/…).
class OciLayout {
 public:
  explicit OciLayout(std::filesystem::path dir);
  // An image manifest for `architecture` with these layers (oldest first); returns its
  // digest. With `tag`, index.json names it.
  std::string addImage(const std::vector<LayerBlob>& layers, const std::string& tag,
                       const std::string& architecture = "amd64");
  // An image index over manifests made by addImage, tagged in index.json.
  std::string addIndex(const std::vector<std::pair<std::string, std::string>>& manifestsAndArch,
                       const std::string& tag);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string writeBlob(const std::string& bytes);
  void tag(const std::string& mediaType, const std::string& digest, std::size_t size,
           const std::string& tag);
  std::filesystem::path dir_;
  std::vector<std::string> indexEntries_;
};

class TestRegistry {
 public:
  TestRegistry();  // throws when docker-registry does not come up
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  std::string host() const;  // "127.0.0.1:PORT"
  // skopeo copy oci:LAYOUT:TAG docker://HOST/REPO:TAG (--all for an index).
  void push(const OciLayout& layout, const std::string& tag, const std::string& repository);
  // The file the registry stores a blob in, to corrupt it.
  std::filesystem::path blobFile(const std::string& digest) const;
  void stop();
  // SIGSTOP / SIGCONT: a registry that answers nothing, holding a pull mid-way.
  void pause();
  void resume();

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace banger::test
