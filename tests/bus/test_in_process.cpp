// lib/ pieces on a private session bus, served by banger's EventLoop on its own thread:
// the handler wrapper and org.banger.Job1.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "banger/dbus_call.h"
#include "banger/errors.h"
#include "banger/event_loop.h"
#include "banger/job.h"
#include "banger/options.h"
#include "harness.h"
#include "introspection.h"
#include "org.banger.Dns1.Manager_adaptor.h"
#include "org.banger.Image1.Manager_adaptor.h"

using namespace banger;
using namespace banger::test;

namespace {

// A Dns1.Manager whose handlers fail in the ways real code can.
class FaultyDns final : public sdbus::AdaptorInterfaces<org::banger::Dns1::Manager_adaptor,
                                                        sdbus::Properties_adaptor> {
 public:
  FaultyDns(sdbus::IConnection& c, CallGuard& guard)
      : AdaptorInterfaces(c, "/org/banger/Dns"), guard_(guard) {
    registerAdaptor();
  }
  ~FaultyDns() { unregisterAdaptor(); }

 private:
  std::vector<sdbus::Struct<std::string, std::string>> ListRecords() override {
    return guard_("ListRecords", []() -> std::vector<sdbus::Struct<std::string, std::string>> {
      throw std::runtime_error("disk on fire");
    });
  }
  std::vector<std::string> Resolve(const std::string& name) override {
    return guard_("Resolve", [&]() -> std::vector<std::string> {
      if (name == "missing") fail(ErrorCode::NotFound, "no machine named missing");
      if (name == "weird") throw 42;
      return {"172.16.0.2"};
    });
  }
  std::string ListenAddress() override {
    return guard_("ListenAddress", []() -> std::string { throw std::logic_error("bad state"); });
  }
  std::string Zone() override { return "vm"; }
  uint32_t RecordCount() override { return 1; }
  CallGuard& guard_;
};

// An Image1.Manager whose Pull starts a job running the test's work function.
class JobHost final : public sdbus::AdaptorInterfaces<org::banger::Image1::Manager_adaptor,
                                                      sdbus::ObjectManager_adaptor> {
 public:
  JobHost(sdbus::IConnection& c, EventLoop& loop, WorkerPool& pool, CallGuard& guard,
          JobTiming timing)
      : AdaptorInterfaces(c, "/org/banger/Image"),
        guard_(guard),
        jobs(c, loop, pool, guard, "/org/banger/Image", managerJobSignals(*this), timing) {
    registerAdaptor();
  }
  ~JobHost() { unregisterAdaptor(); }
  std::function<void(JobContext&)> work;

 private:
  std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> Pull(const std::string&,
                                                        const VariantMap&) override {
    return guard_("Pull", [&] {
      auto job = jobs.start("pull", sdbus::ObjectPath("/org/banger/Image/image/x"),
                            callerUid(getObject()), work);
      return std::make_tuple(sdbus::ObjectPath("/org/banger/Image/image/x"), job);
    });
  }
  void Register(sdbus::Result<sdbus::ObjectPath>&& result, VariantMap) override {
    result.returnResults("/");
  }
  std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> PullKernel(const std::string&,
                                                              const VariantMap&) override {
    return {"/", "/"};
  }
  void ImportKernel(sdbus::Result<sdbus::ObjectPath>&& result, VariantMap) override {
    result.returnResults("/");
  }
  std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>> Catalog()
      override {
    return {};
  }
  sdbus::ObjectPath FindImage(const std::string&) override { return "/"; }
  sdbus::ObjectPath FindKernel(const std::string&) override { return "/"; }
  CallGuard& guard_;

 public:
  JobManager jobs;
};

// Serves objects on a private bus from a banger EventLoop thread.
struct Server {
  explicit Server(const BusHarness& harness)
      : connection(harness.connectSession()), loop(*connection), pool(2, 8) {}
  void start() {
    thread = std::thread([this] { loop.run(); });
  }
  ~Server() {
    loop.stop();
    if (thread.joinable()) thread.join();
  }
  std::unique_ptr<sdbus::IConnection> connection;
  EventLoop loop;
  WorkerPool pool;
  CallGuard guard;
  std::thread thread;
};

TEST(CallGuard, EveryExceptionBecomesANamedErrorAndTheServiceKeepsServing) {
  BusHarness harness(BusHarness::Options::sessionOnly());
  Server server(harness);
  FaultyDns dns(*server.connection, server.guard);
  server.connection->requestName("org.banger.Dns");
  server.start();

  auto client = harness.connectSession();
  auto proxy = sdbus::createProxy(*client, "org.banger.Dns", "/org/banger/Dns");
  auto e =
      callError([&] { proxy->callMethod("ListRecords").onInterface("org.banger.Dns1.Manager"); });
  EXPECT_EQ(e.getName(), "org.banger.Error.Failed");
  EXPECT_NE(e.getMessage().find("disk on fire"), std::string::npos);

  e = callError([&] {
    proxy->callMethod("Resolve")
        .onInterface("org.banger.Dns1.Manager")
        .withArguments(std::string("missing"));
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.NotFound");
  EXPECT_EQ(e.getMessage(), "no machine named missing");

  e = callError([&] {
    proxy->callMethod("Resolve")
        .onInterface("org.banger.Dns1.Manager")
        .withArguments(std::string("weird"));
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.Failed");

  e = callError([&] {
    std::string s = proxy->getProperty("ListenAddress").onInterface("org.banger.Dns1.Manager");
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.Failed");

  std::vector<std::string> addresses;
  proxy->callMethod("Resolve")
      .onInterface("org.banger.Dns1.Manager")
      .withArguments(std::string("web"))
      .storeResultsTo(addresses);
  EXPECT_EQ(addresses, std::vector<std::string>{"172.16.0.2"});
}

class Jobs : public ::testing::Test {
 protected:
  void SetUp() override {
    harness = std::make_unique<BusHarness>(BusHarness::Options::sessionOnly());
    server = std::make_unique<Server>(*harness);
    JobTiming timing;
    timing.linger = std::chrono::milliseconds(700);
    host = std::make_unique<JobHost>(*server->connection, server->loop, server->pool, server->guard,
                                     timing);
    server->connection->requestName("org.banger.Image");
  }
  void TearDown() override {
    server->loop.stop();
    if (server->thread.joinable()) server->thread.join();
    host.reset();
    server.reset();
  }

  // Starts a job through Pull and follows its signals until Finished.
  struct Observed {
    sdbus::ObjectPath path;
    std::atomic<int> progressSignals{0};
    std::atomic<bool> finished{false};
    std::atomic<bool> removedSignal{false};
    std::atomic<uint32_t> newSignalId{0};
    std::string removedState;
    std::atomic<double> lastProgressBeforeFinish{-2};
    std::string state, errorName;
    std::mutex mutex;
  };

  void startJob(Observed& o, sdbus::IConnection& client, std::unique_ptr<sdbus::IProxy>& jobProxy,
                std::unique_ptr<sdbus::IProxy>& manager) {
    manager = sdbus::createProxy(client, "org.banger.Image", "/org/banger/Image");
    manager->uponSignal("JobNew")
        .onInterface("org.banger.Image1.Manager")
        .call([&o](uint32_t id, const sdbus::ObjectPath&) { o.newSignalId = id; });
    manager->uponSignal("JobRemoved")
        .onInterface("org.banger.Image1.Manager")
        .call([&o](uint32_t, const sdbus::ObjectPath&, const std::string& state) {
          std::lock_guard lock(o.mutex);
          o.removedState = state;
          o.removedSignal = true;
        });
    manager->finishRegistration();
    sdbus::ObjectPath image;
    // The job's object path is predictable (ids start at 1), so subscribe before starting.
    jobProxy = sdbus::createProxy(client, "org.banger.Image", "/org/banger/Image/job/1");
    jobProxy->uponSignal("PropertiesChanged")
        .onInterface("org.freedesktop.DBus.Properties")
        .call([&o](const std::string&, const std::map<std::string, sdbus::Variant>& changed,
                   const std::vector<std::string>&) {
          auto it = changed.find("Progress");
          if (it != changed.end() && changed.count("State") == 0) {
            ++o.progressSignals;
            o.lastProgressBeforeFinish = it->second.get<double>();
          }
        });
    jobProxy->uponSignal("Finished")
        .onInterface("org.banger.Job1")
        .call([&o](const std::string& state, const std::string& errorName, const std::string&) {
          std::lock_guard lock(o.mutex);
          o.state = state;
          o.errorName = errorName;
          o.finished = true;
        });
    jobProxy->finishRegistration();
    client.enterEventLoopAsync();
    server->start();
    manager->callMethod("Pull")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(std::string("x"), std::map<std::string, sdbus::Variant>{})
        .storeResultsTo(image, o.path);
    EXPECT_EQ(std::string(o.path), "/org/banger/Image/job/1");
  }

  std::unique_ptr<BusHarness> harness;
  std::unique_ptr<Server> server;
  std::unique_ptr<JobHost> host;
};

TEST_F(Jobs, ProgressIsRateLimitedAndTheLastValueArrivesBeforeFinished) {
  host->work = [](JobContext& ctx) {
    ctx.stage("download", "layer 1");
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
    uint64_t done = 0;
    while (std::chrono::steady_clock::now() < end) {
      ctx.progress(++done, 1'000'000);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ctx.progress(1'000'000, 1'000'000);
  };
  auto client = harness->connectSession();
  Observed o;
  std::unique_ptr<sdbus::IProxy> job, manager;
  startJob(o, *client, job, manager);
  ASSERT_TRUE(waitFor([&] { return o.finished.load(); }, std::chrono::seconds(10)));
  client->leaveEventLoop();
  // 1 s of updates at ≤ 10/s, plus the first and the final flush.
  EXPECT_LE(o.progressSignals.load(), 12);
  EXPECT_GE(o.progressSignals.load(), 5);
  EXPECT_DOUBLE_EQ(o.lastProgressBeforeFinish.load(), 1.0);
  EXPECT_EQ(o.state, "succeeded");
  const std::string stage = job->getProperty("Stage").onInterface("org.banger.Job1");
  EXPECT_EQ(stage, "download");
}

// Bytes belong to a stage: the next one starts at 0 with an unknown total, and a flush of
// the previous stage's bytes still pending does not land after the change.
TEST_F(Jobs, ANewStageStartsItsByteCountAfresh) {
  std::atomic<bool> release{false};
  host->work = [&release](JobContext& ctx) {
    ctx.stage("verify", "indices");
    ctx.progress(1, 0);        // flushed at once
    ctx.progress(5 << 20, 0);  // pending: inside the rate limit
    ctx.stage("download", "the package");
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!release && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  auto client = harness->connectSession();
  Observed o;
  std::unique_ptr<sdbus::IProxy> job, manager;
  startJob(o, *client, job, manager);
  ASSERT_TRUE(waitFor(
      [&] {
        return job->getProperty("Stage").onInterface("org.banger.Job1").get<std::string>() ==
               "download";
      },
      std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past any pending flush
  const uint64_t completed = job->getProperty("CompletedBytes").onInterface("org.banger.Job1");
  const double progress = job->getProperty("Progress").onInterface("org.banger.Job1");
  EXPECT_EQ(completed, 0u);
  EXPECT_DOUBLE_EQ(progress, -1.0);
  release = true;
  ASSERT_TRUE(waitFor([&] { return o.finished.load(); }, std::chrono::seconds(5)));
  client->leaveEventLoop();
}

TEST_F(Jobs, CancelEndsTheJobAsCanceled) {
  host->work = [](JobContext& ctx) {
    for (;;) {
      ctx.throwIfCanceled();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  auto client = harness->connectSession();
  Observed o;
  std::unique_ptr<sdbus::IProxy> job, manager;
  startJob(o, *client, job, manager);
  const std::string running = job->getProperty("State").onInterface("org.banger.Job1");
  EXPECT_EQ(running, "running");
  job->callMethod("Cancel").onInterface("org.banger.Job1");
  ASSERT_TRUE(waitFor([&] { return o.finished.load(); }, std::chrono::seconds(5)));
  client->leaveEventLoop();
  EXPECT_EQ(o.state, "canceled");
  EXPECT_EQ(o.errorName, "org.banger.Error.Canceled");
  const std::string errorName = job->getProperty("ErrorName").onInterface("org.banger.Job1");
  EXPECT_EQ(errorName, "org.banger.Error.Canceled");
}

TEST_F(Jobs, FinishedJobStaysReadableForItsLingerThenGoes) {
  host->work = [](JobContext&) { throw Error(ErrorCode::Unavailable, "registry unreachable"); };
  auto client = harness->connectSession();
  Observed o;
  std::unique_ptr<sdbus::IProxy> job, manager;
  startJob(o, *client, job, manager);
  ASSERT_TRUE(waitFor([&] { return o.finished.load(); }, std::chrono::seconds(5)));
  EXPECT_TRUE(waitFor([&] { return o.removedSignal.load(); }, std::chrono::seconds(2)));
  client->leaveEventLoop();
  EXPECT_EQ(o.newSignalId.load(), 1U) << "JobNew was not seen";
  EXPECT_EQ(o.removedState, "failed");
  const std::string state = job->getProperty("State").onInterface("org.banger.Job1");
  const std::string message = job->getProperty("ErrorMessage").onInterface("org.banger.Job1");
  const std::string operation = job->getProperty("Operation").onInterface("org.banger.Job1");
  EXPECT_EQ(state, "failed");
  EXPECT_EQ(message, "registry unreachable");
  EXPECT_EQ(operation, "pull");
  const uint32_t uid = job->getProperty("StartedByUid").onInterface("org.banger.Job1");
  EXPECT_EQ(uid, geteuid());

  // Its introspection is the contract's.
  std::string xml;
  job->callMethod("Introspect")
      .onInterface("org.freedesktop.DBus.Introspectable")
      .storeResultsTo(xml);
  EXPECT_EQ(interfaceMembers(xml).at("org.banger.Job1"),
            interfaceMembers(readFile(BANGER_SOURCE_DIR "/interfaces/org.banger.Job1.xml"))
                .at("org.banger.Job1"));

  EXPECT_TRUE(waitFor(
      [&] {
        try {
          std::string s = job->getProperty("State").onInterface("org.banger.Job1");
          return false;
        } catch (const sdbus::Error&) {
          return true;
        }
      },
      std::chrono::seconds(3)))
      << "the job outlived its linger";
}

TEST(JobTimingDefaults, LingerIsSixtySecondsAndProgressTenPerSecond) {
  JobTiming t;
  EXPECT_EQ(t.linger, std::chrono::seconds(60));
  EXPECT_EQ(t.minProgressInterval, std::chrono::milliseconds(100));
}

}  // namespace
