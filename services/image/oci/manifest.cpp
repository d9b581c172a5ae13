#include "oci/manifest.h"

#include <nlohmann/json.hpp>

#include "banger/errors.h"
#include "oci/reference.h"

namespace banger::image::oci {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLayers = 1000;  // images have tens; more is a hostile manifest

[[noreturn]] void malformed(const std::string& what) {
  fail(ErrorCode::InvalidArgument, "malformed image manifest: " + what);
}

std::string stringField(const json& object, const char* name, bool required) {
  auto found = object.find(name);
  if (found == object.end()) {
    if (required) malformed(std::string("no \"") + name + "\"");
    return {};
  }
  if (!found->is_string()) malformed(std::string("\"") + name + "\" is not a string");
  return found->get<std::string>();
}

Descriptor descriptor(const json& object, const char* where) {
  if (!object.is_object()) malformed(std::string(where) + " is not an object");
  Descriptor d;
  d.mediaType = stringField(object, "mediaType", true);
  d.digest = stringField(object, "digest", true);
  if (!isSha256Digest(d.digest))
    malformed(std::string(where) + " digest '" + d.digest.substr(0, 80) + "' is not sha256");
  auto size = object.find("size");
  if (size == object.end() || !size->is_number_unsigned())
    malformed(std::string(where) + " has no size");
  d.size = size->get<std::uint64_t>();
  if (auto platform = object.find("platform"); platform != object.end() && platform->is_object()) {
    d.platform.os = stringField(*platform, "os", false);
    d.platform.architecture = stringField(*platform, "architecture", false);
    d.platform.variant = stringField(*platform, "variant", false);
  }
  if (auto notes = object.find("annotations"); notes != object.end() && notes->is_object()) {
    auto type = notes->find("vnd.docker.reference.type");
    d.attestation = type != notes->end() && type->is_string() && *type == "attestation-manifest";
  }
  if (d.platform.os == "unknown" && d.platform.architecture == "unknown") d.attestation = true;
  if (auto urls = object.find("urls"); urls != object.end() && !urls->empty())
    fail(ErrorCode::NotSupported,
         "layer " + d.digest + " is a foreign layer served from elsewhere (urls)");
  return d;
}

bool isLayerType(std::string_view type) {
  return type == "application/vnd.oci.image.layer.v1.tar" ||
         type == "application/vnd.oci.image.layer.v1.tar+gzip" ||
         type == "application/vnd.oci.image.layer.v1.tar+zstd" ||
         type == "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

}  // namespace

std::string Platform::text() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Document parseDocument(std::string_view body, std::string_view contentType) {
  if (body.size() > kMaxManifestBytes)
    malformed("over " + std::to_string(kMaxManifestBytes) + " bytes");
  json root = json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) malformed("not a JSON object");
  std::string type(contentType.substr(0, contentType.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type.empty() || type == "application/json") type = stringField(root, "mediaType", false);
  if (type.find("manifest.v1+prettyjws") != std::string::npos ||
      type.find("manifest.v1+json") == 0 ||
      (root.contains("schemaVersion") && root["schemaVersion"] == 1))
    fail(ErrorCode::NotSupported,
         "Docker schema 1 manifests are not supported; push the image again with a current tool");

  Document doc;
  if (type == media::kOciIndex || type == media::kDockerList ||
      (type.empty() && root.contains("manifests"))) {
    doc.kind = Document::Kind::Index;
    auto list = root.find("manifests");
    if (list == root.end() || !list->is_array()) malformed("an index without \"manifests\"");
    if (list->size() > kMaxLayers) malformed("too many manifests");
    for (const auto& entry : *list) doc.manifests.push_back(descriptor(entry, "a manifest entry"));
    return doc;
  }
  if (type != media::kOciManifest && type != media::kDockerManifest &&
      !(type.empty() && root.contains("layers")))
    fail(ErrorCode::NotSupported,
         "manifest media type '" + type.substr(0, 120) + "' is not an image");
  auto config = root.find("config");
  if (config == root.end()) malformed("no \"config\"");
  doc.config = descriptor(*config, "the config");
  auto layers = root.find("layers");
  if (layers == root.end() || !layers->is_array()) malformed("no \"layers\"");
  if (layers->size() > kMaxLayers) malformed("more than " + std::to_string(kMaxLayers) + " layers");
  for (const auto& entry : *layers) {
    Descriptor layer = descriptor(entry, "a layer");
    if (layer.mediaType.find("nondistributable") != std::string::npos ||
        layer.mediaType.find("foreign") != std::string::npos)
      fail(ErrorCode::NotSupported,
           "layer " + layer.digest + " is non-distributable (" + layer.mediaType + ")");
    if (!isLayerType(layer.mediaType))
      fail(ErrorCode::NotSupported, "layer " + layer.digest + " has media type '" +
                                        layer.mediaType.substr(0, 120) +
                                        "', which is not a filesystem layer");
    doc.layers.push_back(std::move(layer));
  }
  return doc;
}

const Descriptor& choosePlatform(const Document& index) {
  const Descriptor* best = nullptr;
  auto rank = [](const std::string& variant) {
    if (variant.empty()) return 0;
    if (variant == "v1") return 1;
    if (variant == "v2") return 2;
    if (variant == "v3") return 3;
    return 9;
  };
  std::string offered;
  for (const auto& entry : index.manifests) {
    if (entry.attestation) continue;
    if (!offered.empty()) offered += ", ";
    offered += entry.platform.text();
    if (entry.platform.os != "linux" || entry.platform.architecture != "amd64" ||
        rank(entry.platform.variant) > 3)
      continue;
    if (!best || rank(entry.platform.variant) < rank(best->platform.variant)) best = &entry;
  }
  if (!best)
    fail(ErrorCode::NotSupported, "the image has no linux/amd64 variant; it offers: " +
                                      (offered.empty() ? std::string("none") : offered));
  return *best;
}

ImageConfig parseImageConfig(std::string_view body) {
  if (body.size() > kMaxManifestBytes)
    malformed("config over " + std::to_string(kMaxManifestBytes) + " bytes");
  json root = json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) malformed("the config is not a JSON object");
  ImageConfig config;
  config.platform.os = stringField(root, "os", false);
  config.platform.architecture = stringField(root, "architecture", false);
  config.platform.variant = stringField(root, "variant", false);
  if (auto rootfs = root.find("rootfs"); rootfs != root.end() && rootfs->is_object())
    if (auto ids = rootfs->find("diff_ids"); ids != rootfs->end() && ids->is_array())
      for (const auto& id : *ids)
        if (id.is_string()) config.diffIds.push_back(id.get<std::string>());
  return config;
}

}  // namespace banger::image::oci
