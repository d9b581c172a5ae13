#include "test_registry.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "banger/http.h"
#include "banger/process.h"
#include "oci/sha256.h"

namespace banger::test {

OciLayout::OciLayout(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_ / "blobs" / "sha256");
  writeFile(dir_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
}

std::string OciLayout::writeBlob(const std::string& bytes) {
  std::string digest = image::oci::sha256Digest(bytes);
  writeFile(dir_ / "blobs" / "sha256" / digest.substr(7), bytes);
  return digest;
}

void OciLayout::tag(const std::string& mediaType, const std::string& digest, std::size_t size,
                    const std::string& name) {
  nlohmann::json entry = {{"mediaType", mediaType},
                          {"digest", digest},
                          {"size", size},
                          {"annotations", {{"org.opencontainers.image.ref.name", name}}}};
  indexEntries_.push_back(entry.dump());
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
  for (const auto& text : indexEntries_) index["manifests"].push_back(nlohmann::json::parse(text));
  writeFile(dir_ / "index.json", index.dump());
}

std::string OciLayout::addImage(const std::vector<LayerBlob>& layers, const std::string& name,
                                const std::string& architecture) {
  nlohmann::json config = {{"architecture", architecture},
                           {"os", "linux"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}};
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"}};
  nlohmann::json layerList = nlohmann::json::array();
  for (const auto& layer : layers) {
    layerList.push_back({{"mediaType", layer.mediaType},
                         {"digest", writeBlob(layer.bytes)},
                         {"size", layer.bytes.size()}});
    // banger does not check diff_ids; umoci (the benchmark's peer) does.
    config["rootfs"]["diff_ids"].push_back(
        layer.diffId.empty() ? image::oci::sha256Digest(layer.bytes) : layer.diffId);
  }
  std::string configBytes = config.dump();
  manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", writeBlob(configBytes)},
                        {"size", configBytes.size()}};
  manifest["layers"] = layerList;
  std::string manifestBytes = manifest.dump();
  std::string digest = writeBlob(manifestBytes);
  if (!name.empty())
    tag("application/vnd.oci.image.manifest.v1+json", digest, manifestBytes.size(), name);
  return digest;
}

std::string OciLayout::addIndex(
    const std::vector<std::pair<std::string, std::string>>& manifestsAndArch,
    const std::string& name) {
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests", nlohmann::json::array()}};
  for (const auto& [digest, arch] : manifestsAndArch) {
    auto size = std::filesystem::file_size(dir_ / "blobs" / "sha256" / digest.substr(7));
    index["manifests"].push_back({{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                  {"digest", digest},
                                  {"size", size},
                                  {"platform", {{"os", "linux"}, {"architecture", arch}}}});
  }
  std::string bytes = index.dump();
  std::string digest = writeBlob(bytes);
  tag("application/vnd.oci.image.index.v1+json", digest, bytes.size(), name);
  return digest;
}

TestRegistry::TestRegistry() {
  port_ = freeLoopbackPort();
  writeFile(dir_.path() / "registry.yml",
            "version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem: {rootdirectory: " +
                (dir_.path() / "data").string() +
                "}\n  delete: {enabled: true}\nhttp: {addr: " + host() + "}\n");
  DetachedCommand command;
  command.argv = {"docker-registry", "serve", (dir_.path() / "registry.yml").string()};
  command.logFile = (dir_.path() / "registry.log").string();
  pid_ = SystemProcessRunner().startDetached(command);
  http::Client client;
  bool up = waitFor(
      [&] {
        try {
          http::Request request;
          request.url = "http://" + host() + "/v2/";
          return client.fetch(request).status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(20));
  if (!up)
    throw std::runtime_error("docker-registry did not come up: " +
                             readFile(dir_.path() / "registry.log"));
}

TestRegistry::~TestRegistry() { stop(); }

void TestRegistry::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::kill(pid_, SIGCONT);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void TestRegistry::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void TestRegistry::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string TestRegistry::host() const { return "127.0.0.1:" + std::to_string(port_); }

void TestRegistry::push(const OciLayout& layout, const std::string& tag,
                        const std::string& repository) {
  Command copy({"skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false",
                "oci:" + layout.dir().string() + ":" + tag,
                "docker://" + host() + "/" + repository + ":" + tag});
  copy.timeout = std::chrono::minutes(2);
  ProcessResult result = SystemProcessRunner().run(copy);
  if (!result.ok()) throw std::runtime_error("skopeo copy failed: " + result.err);
}

std::filesystem::path TestRegistry::blobFile(const std::string& digest) const {
  std::string hex = digest.substr(7);
  return dir_.path() / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256" /
         hex.substr(0, 2) / hex / "data";
}

}  // namespace banger::test
