// Pulls from a real registry on loopback: tags, digests, indexes, gzip and zstd layers,
// the blob cache, and the ways a registry or its storage can let a pull down.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <random>

#include "banger/errors.h"
#include "banger/ext4/image_builder.h"
#include "ext4_reader.h"
#include "oci/pull.h"
#include "oci/sha256.h"
#include "tar_builder.h"
#include "test_registry.h"

namespace banger::image::oci {
namespace {

using test::Compression;
using test::LayerBlob;
using test::TarBuilder;

class OciPull : public ::testing::Test {
 protected:
  OciPull() : layout_(work_.path() / "layout"), cache_(work_.path() / "cache") {}

  RegistryClient client() { return RegistryClient(http_, {}, &cancel_); }
  std::string ref(const std::string& repoAndTag) { return registry_.host() + "/" + repoAndTag; }
  // Resolves, fetches and stacks the layers the way a pull does; returns the image path.
  std::string pullToImage(const std::string& text) {
    auto registry = client();
    ResolvedImage image = resolveImage(registry, parseReference(text));
    auto layers = fetchLayers(registry, cache_, image, 3, {});
    std::string path = (work_.path() / "rootfs.ext4").string();
    ext4::Volume volume(path, ext4::FormatOptions{.sizeBytes = 256ull << 20});
    ext4::ImageBuilder builder(volume, {});
    for (std::size_t i = layers.size(); i-- > 0;) {
      auto reader = ext4::TarReader::openFile(layers[i], image.manifest.layers[i].digest);
      builder.addLayer(*reader);
    }
    builder.finish();
    return path;
  }
  std::size_t cachedBlobs() const {
    std::size_t count = 0;
    std::error_code error;
    for (auto it = std::filesystem::directory_iterator(work_.path() / "cache" / "blobs" / "sha256",
                                                       error);
         !error && it != std::filesystem::directory_iterator(); ++it)
      ++count;
    return count;
  }

  test::TempDir work_;
  test::TestRegistry registry_;
  test::OciLayout layout_;
  BlobCache cache_;
  http::Client http_;
  std::atomic<bool> cancel_{false};
};

TEST_F(OciPull, PullsATaggedGzipImageWithWhiteoutsAndCachesItsLayers) {
  TarBuilder base, upper;
  base.file("etc/motd", "old").file("opt/app/old.txt", "old").file("opt/app/keep", "keep");
  upper.file("etc/motd", "new").file("opt/app/.wh.old.txt", "");
  layout_.addImage({{base.bytes(Compression::Gzip)}, {upper.bytes(Compression::Gzip)}}, "v1");
  registry_.push(layout_, "v1", "banger/test");

  test::Ext4Reader fs(pullToImage(ref("banger/test:v1")));
  EXPECT_EQ(fs.read("/etc/motd"), "new");
  EXPECT_EQ(fs.names("/opt/app"), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(cachedBlobs(), 2u);

  // A second pull downloads nothing: with the registry gone after the manifest, the
  // layers still come from the cache.
  auto registry = client();
  ResolvedImage image = resolveImage(registry, parseReference(ref("banger/test:v1")));
  registry_.stop();
  EXPECT_NO_THROW(fetchLayers(registry, cache_, image, 3, {}));
}

TEST_F(OciPull, PullsZstdLayersAndByDigest) {
  TarBuilder layer;
  layer.file("usr/share/zstd", "compressed with zstd");
  std::string digest = layout_.addImage(
      {{layer.bytes(Compression::Zstd), "application/vnd.oci.image.layer.v1.tar+zstd"}}, "zstd");
  registry_.push(layout_, "zstd", "banger/test");
  test::Ext4Reader fs(pullToImage(ref("banger/test@" + digest)));
  EXPECT_EQ(fs.read("/usr/share/zstd"), "compressed with zstd");
}

TEST_F(OciPull, PicksLinuxAmd64FromAMultiArchIndex) {
  TarBuilder amd, arm;
  amd.file("arch", "amd64");
  arm.file("arch", "arm64");
  std::string amdDigest = layout_.addImage({{amd.bytes(Compression::Gzip)}}, "", "amd64");
  std::string armDigest = layout_.addImage({{arm.bytes(Compression::Gzip)}}, "", "arm64");
  layout_.addIndex({{armDigest, "arm64"}, {amdDigest, "amd64"}}, "multi");
  layout_.addIndex({{armDigest, "arm64"}}, "armonly");
  registry_.push(layout_, "multi", "banger/test");
  registry_.push(layout_, "armonly", "banger/test");

  test::Ext4Reader fs(pullToImage(ref("banger/test:multi")));
  EXPECT_EQ(fs.read("/arch"), "amd64");
  auto registry = client();
  try {
    resolveImage(registry, parseReference(ref("banger/test:armonly")));
    FAIL() << "an arm64-only image resolved";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotSupported);
    EXPECT_NE(std::string(error.what()).find("linux/arm64"), std::string::npos) << error.what();
  }
}

TEST_F(OciPull, AnUnknownTagIsNotFoundInTheRegistrysWords) {
  auto registry = client();
  try {
    resolveImage(registry, parseReference(ref("banger/nothing:here")));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotFound) << error.what();
    EXPECT_NE(std::string(error.what()).find("MANIFEST_UNKNOWN"), std::string::npos)
        << error.what();
  }
}

TEST_F(OciPull, ACorruptedBlobInTheRegistryIsRefusedAndNotCached) {
  TarBuilder layer;
  layer.file("data", std::string(100000, 'd'));
  std::string bytes = layer.bytes(Compression::Gzip);
  layout_.addImage({{bytes}}, "v1");
  registry_.push(layout_, "v1", "banger/test");
  std::string blob = sha256Digest(bytes);
  std::string stored = test::readFile(registry_.blobFile(blob));
  stored[stored.size() / 2] = static_cast<char>(stored[stored.size() / 2] ^ 1);
  test::writeFile(registry_.blobFile(blob), stored);

  auto registry = client();
  ResolvedImage image = resolveImage(registry, parseReference(ref("banger/test:v1")));
  try {
    fetchLayers(registry, cache_, image, 3, {});
    FAIL() << "a corrupted layer was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::IntegrityError);
    EXPECT_NE(std::string(error.what()).find(blob), std::string::npos) << error.what();
  }
  EXPECT_EQ(cachedBlobs(), 0u) << "nothing unverified stays in the cache";
}

TEST_F(OciPull, ARegistryThatGoesAwayMidDownloadIsANamedError) {
  std::string noise(48 << 20, '\0');
  std::mt19937_64 random(7);
  for (std::size_t i = 0; i + 8 <= noise.size(); i += 8) {
    auto value = random();
    std::memcpy(&noise[i], &value, 8);
  }
  TarBuilder layer;
  layer.file("noise", noise);
  layout_.addImage({{layer.bytes(), "application/vnd.oci.image.layer.v1.tar"}}, "big");
  registry_.push(layout_, "big", "banger/test");

  auto registry = client();
  ResolvedImage image = resolveImage(registry, parseReference(ref("banger/test:big")));
  std::atomic<bool> stopped{false};
  try {
    fetchLayers(registry, cache_, image, 1, [&](std::uint64_t) {
      if (!stopped.exchange(true)) registry_.stop();
    });
    FAIL() << "the download survived the registry";
  } catch (const Error& error) {
    EXPECT_TRUE(error.code() == ErrorCode::Failed || error.code() == ErrorCode::IntegrityError ||
                error.code() == ErrorCode::Unavailable)
        << error.what();
    EXPECT_NE(std::string(error.what()).find(registry_.host()), std::string::npos) << error.what();
  }
  EXPECT_EQ(cachedBlobs(), 0u);
}

}  // namespace
}  // namespace banger::image::oci
