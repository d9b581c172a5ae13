// The Image service as a user meets it: banger-image started by D-Bus activation on a
// private session bus, with its state and cache in the harness's temp dirs, pulling from
// a docker-registry on loopback.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "harness.h"
#include "stalling_proxy.h"
#include "tar_builder.h"
#include "test_registry.h"

namespace banger::test {

struct JobOutcome {
  std::string state, errorName, errorMessage;
  std::vector<std::string> stages;
};

class ImageServiceTest : public ::testing::Test {
 protected:
  ImageServiceTest()
      : harness_(BusHarness::Options::sessionOnly()),
        bus_(harness_.connectSession()),
        layout_(work_.path() / "layout") {
    manager_ = sdbus::createProxy(*bus_, "org.banger.Image", "/org/banger/Image");
    // Stages can pass faster than any poll: they are collected from StageChanged.
    stageSlot_ = bus_->addMatch("type='signal',interface='org.banger.Job1',member='StageChanged'",
                                [this](sdbus::Message& m) {
                                  std::string stage, detail;
                                  m >> stage >> detail;
                                  std::lock_guard lock(stagesMutex_);
                                  stages_[m.getPath()].push_back(stage);
                                });
    bus_->enterEventLoopAsync();
  }
  ~ImageServiceTest() override { bus_->leaveEventLoop(); }

  std::filesystem::path stateDir() const {
    return harness_.clientEnvironment().at("BANGER_STATE_DIR");
  }
  std::filesystem::path storeDir() const { return stateDir() / "image"; }
  std::filesystem::path cacheDir() const {
    return std::filesystem::path(harness_.clientEnvironment().at("BANGER_CACHE_DIR")) / "oci";
  }
  void writeConfig(const std::string& toml) const {
    const std::filesystem::path dir = harness_.clientEnvironment().at("BANGER_CONFIG_DIR");
    std::filesystem::create_directories(dir);
    writeFile(dir / "config.toml", toml);
  }
  std::string ref(const std::string& repoAndTag) const {
    return registry_.host() + "/" + repoAndTag;
  }

  // Pushes a one-image layout tagged `tag` to banger/test; returns the manifest digest.
  std::string pushImage(const std::vector<LayerBlob>& layers, const std::string& tag) {
    std::string digest = layout_.addImage(layers, tag);
    registry_.push(layout_, tag, "banger/test");
    return digest;
  }

  std::pair<sdbus::ObjectPath, sdbus::ObjectPath> startPull(
      const std::string& reference, const std::map<std::string, sdbus::Variant>& options = {}) {
    sdbus::ObjectPath image, job;
    manager_->callMethod("Pull")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(reference, options)
        .storeResultsTo(image, job);
    return {image, job};
  }

  JobOutcome waitJob(const sdbus::ObjectPath& job,
                     std::chrono::seconds timeout = std::chrono::seconds(180)) {
    auto proxy = sdbus::createProxy(*bus_, "org.banger.Image", job);
    JobOutcome out;
    auto recordStages = [&] {
      std::lock_guard lock(stagesMutex_);
      out.stages = stages_[job];
    };
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      out.state = proxy->getProperty("State").onInterface("org.banger.Job1").get<std::string>();
      if (out.state != "running") {
        out.errorName =
            proxy->getProperty("ErrorName").onInterface("org.banger.Job1").get<std::string>();
        out.errorMessage =
            proxy->getProperty("ErrorMessage").onInterface("org.banger.Job1").get<std::string>();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last signals
        recordStages();
        return out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << std::string(job) << " still running after " << timeout.count()
                  << " s";
    return out;
  }

  JobOutcome pull(const std::string& reference,
                  const std::map<std::string, sdbus::Variant>& options = {}) {
    return waitJob(startPull(reference, options).second);
  }

  // Every property of an Image1.Image object, by name.
  std::map<std::string, sdbus::Variant> imageProperties(const sdbus::ObjectPath& path) {
    auto proxy = sdbus::createProxy(*bus_, "org.banger.Image", path);
    std::map<std::string, sdbus::Variant> props;
    proxy->callMethod("GetAll")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(std::string("org.banger.Image1.Image"))
        .storeResultsTo(props);
    return props;
  }
  sdbus::ObjectPath findImage(const std::string& name) {
    sdbus::ObjectPath path;
    manager_->callMethod("FindImage")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(name)
        .storeResultsTo(path);
    return path;
  }
  std::vector<std::string> imageNames() {
    std::map<sdbus::ObjectPath, std::map<std::string, std::map<std::string, sdbus::Variant>>> all;
    manager_->callMethod("GetManagedObjects")
        .onInterface("org.freedesktop.DBus.ObjectManager")
        .storeResultsTo(all);
    std::vector<std::string> names;
    for (const auto& [path, interfaces] : all) {
      auto it = interfaces.find("org.banger.Image1.Image");
      if (it != interfaces.end()) names.push_back(it->second.at("Name").get<std::string>());
    }
    return names;
  }
  // The files of the store: the database, its lock, and each image's directory content.
  std::vector<std::string> storeFiles() const {
    std::vector<std::string> files;
    std::error_code error;
    for (auto it = std::filesystem::recursive_directory_iterator(storeDir(), error);
         !error && it != std::filesystem::recursive_directory_iterator(); ++it) {
      if (it->is_regular_file()) {
        const std::string rel = std::filesystem::relative(it->path(), storeDir()).string();
        if (!rel.starts_with("image.db") && rel != "lock") files.push_back(rel);
      }
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // Starts a pull of a 24 MiB image through `proxy` and waits until it is downloading.
  sdbus::ObjectPath startHeldPull(const StallingProxy& proxy, const std::string& name) {
    TarBuilder layer;
    layer.file("noise", noise(24 << 20));
    pushImage({{layer.bytes(), "application/vnd.oci.image.layer.v1.tar"}}, "big");
    auto [image, job] =
        startPull(proxy.host() + "/banger/test:big", {{"name", sdbus::Variant(name)}});
    auto jobProxy = sdbus::createProxy(*bus_, "org.banger.Image", job);
    EXPECT_TRUE(waitFor(
        [&] {
          const uint64_t done = jobProxy->getProperty("CompletedBytes")
                                    .onInterface("org.banger.Job1")
                                    .get<uint64_t>();
          return done >= (1u << 20);
        },
        std::chrono::seconds(30)))
        << "the pull never got its first MiB";
    const std::string stage =
        jobProxy->getProperty("Stage").onInterface("org.banger.Job1").get<std::string>();
    EXPECT_EQ(stage, "download");
    return job;
  }
  TempDir work_;
  TestRegistry registry_;
  BusHarness harness_;
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IProxy> manager_;
  OciLayout layout_;
  sdbus::Slot stageSlot_;
  std::mutex stagesMutex_;
  std::map<std::string, std::vector<std::string>> stages_;
};

}  // namespace banger::test
