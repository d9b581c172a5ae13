// What users type as image references, what registries send in WWW-Authenticate, and
// manifests and indexes as registries serve them.
#include <gtest/gtest.h>

#include "banger/errors.h"
#include "oci/auth_challenge.h"
#include "oci/manifest.h"
#include "oci/reference.h"

namespace banger::image::oci {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(OciReference, ShortNamesMeanDockerHubLibrary) {
  Reference ref = parseReference("alpine:3.20");
  EXPECT_EQ(ref.registry, "docker.io");
  EXPECT_EQ(ref.apiHost, "registry-1.docker.io");
  EXPECT_EQ(ref.repository, "library/alpine");
  EXPECT_EQ(ref.tag, "3.20");
  EXPECT_EQ(ref.canonical(), "docker.io/library/alpine:3.20");
  EXPECT_EQ(parseReference("docker.io/library/alpine:3.20").canonical(),
            "docker.io/library/alpine:3.20");
  EXPECT_EQ(parseReference("index.docker.io/team/app").canonical(), "docker.io/team/app:latest");
}

TEST(OciReference, HostsPortsAndDigests) {
  Reference ref = parseReference("127.0.0.1:5000/banger/test@" + kDigest);
  EXPECT_EQ(ref.registry, "127.0.0.1:5000");
  EXPECT_EQ(ref.apiHost, "127.0.0.1:5000");
  EXPECT_EQ(ref.repository, "banger/test");
  EXPECT_EQ(ref.manifestReference(), kDigest) << "a digest wins over the tag";
  EXPECT_EQ(parseReference("localhost/x").registry, "localhost");
  EXPECT_EQ(parseReference("ghcr.io/org/tool:v1.2-rc_3").tag, "v1.2-rc_3");
}

TEST(OciReference, RefusesWhatIsNotAReference) {
  for (std::string bad : std::vector<std::string>{
           "", "Alpine", "alpine:", "alpine@sha256:abc", "alpine@md5:" + std::string(32, 'a'),
           "a//b", "-x", "x:-tag", "ghcr.io/", std::string(300, 'a')}) {
    try {
      parseReference(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
      EXPECT_NE(std::string(error.what()).find("image reference"), std::string::npos)
          << error.what();
    }
  }
}

TEST(OciChallenge, ParsesDockerHubsBearerChallenge) {
  auto challenge = parseChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->scheme, "bearer");
  EXPECT_EQ(challenge->param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(challenge->param("service"), "registry.docker.io");
  EXPECT_EQ(challenge->param("scope"), "repository:library/alpine:pull");
}

TEST(OciChallenge, QuotedEscapesAndTokens) {
  auto challenge = parseChallenge(R"(Basic realm="a \"quoted\" realm", charset=UTF-8)");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->scheme, "basic");
  EXPECT_EQ(challenge->param("realm"), "a \"quoted\" realm");
  EXPECT_EQ(challenge->param("charset"), "UTF-8");
  EXPECT_FALSE(parseChallenge(R"(Bearer realm="unterminated)"));
  EXPECT_FALSE(parseChallenge("Bearer realm"));
  EXPECT_FALSE(parseChallenge(""));
}

std::string manifestJson(const std::string& layerType) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         kDigest + R"(","size":7},
    "layers":[{"mediaType":")" +
         layerType + R"(","digest":")" + kDigest + R"(","size":1234}]})";
}

TEST(OciManifest, ParsesAManifest) {
  Document doc = parseDocument(manifestJson("application/vnd.oci.image.layer.v1.tar+zstd"),
                               "application/vnd.oci.image.manifest.v1+json");
  ASSERT_EQ(doc.kind, Document::Kind::Manifest);
  ASSERT_EQ(doc.layers.size(), 1u);
  EXPECT_EQ(doc.layers[0].size, 1234u);
  EXPECT_EQ(doc.config.digest, kDigest);
}

TEST(OciManifest, RefusesNonDistributableAndUnknownLayers) {
  for (std::string type :
       std::vector<std::string>{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                                "application/vnd.cncf.helm.chart.content.v1.tar+gzip"}) {
    try {
      parseDocument(manifestJson(type), "");
      ADD_FAILURE() << type;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::NotSupported) << error.what();
    }
  }
}

TEST(OciManifest, PicksLinuxAmd64AndSkipsAttestations) {
  std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, '1') +
      R"(","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, '2') +
      R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, '3') +
      R"(","size":1,"platform":{"os":"unknown","architecture":"unknown"},
     "annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]})";
  Document doc = parseDocument(index, "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(doc.kind, Document::Kind::Index);
  EXPECT_EQ(choosePlatform(doc).digest, "sha256:" + std::string(64, '2'));
}

TEST(OciManifest, NamesThePlatformsOfferedWhenAmd64IsMissing) {
  std::string index =
      R"({"manifests":[{"mediaType":"x","digest":"sha256:)" + std::string(64, '1') +
      R"(","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"x","digest":"sha256:)" +
      std::string(64, '2') + R"(","size":1,"platform":{"os":"windows","architecture":"amd64"}}]})";
  try {
    choosePlatform(
        parseDocument(index, "application/vnd.docker.distribution.manifest.list.v2+json"));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotSupported);
    EXPECT_NE(std::string(error.what()).find("linux/arm64/v8, windows/amd64"), std::string::npos)
        << error.what();
  }
}

TEST(OciManifest, RefusesSchema1AndGarbage) {
  EXPECT_THROW(parseDocument(R"({"schemaVersion":1,"fsLayers":[]})", ""), Error);
  EXPECT_THROW(parseDocument("not json", ""), Error);
  EXPECT_THROW(
      parseDocument(R"({"layers":[{"digest":"sha256:zz","size":1,"mediaType":"x"}],"config":{}})",
                    ""),
      Error);
}

}  // namespace
}  // namespace banger::image::oci
