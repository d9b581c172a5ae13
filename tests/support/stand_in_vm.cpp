#include "stand_in_vm.h"

#include "banger/errors.h"

namespace banger::test {

class StandInManager final
    : public sdbus::AdaptorInterfaces<org::banger::Vm1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor> {
 public:
  explicit StandInManager(sdbus::IConnection& c) : AdaptorInterfaces(c, "/org/banger/Vm") {
    registerAdaptor();
  }
  ~StandInManager() { unregisterAdaptor(); }
  sdbus::IObject& object() { return getObject(); }

 private:
  [[noreturn]] static void no() { fail(ErrorCode::NotSupported, "stand-in"); }
  std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> CreateVm(const VariantMap&) override { no(); }
  std::tuple<VariantMap, std::map<std::string, std::string>> ResolveSpec(
      const VariantMap&) override {
    no();
  }
  sdbus::ObjectPath FindMachine(const std::string&) override { no(); }
  std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> ListMachines() override {
    no();
  }
  void Prune(sdbus::Result<std::vector<std::string>>&& result, VariantMap) override {
    result.returnError(sdbus::Error(std::string(errorName(ErrorCode::NotSupported)), "stand-in"));
  }
  std::string Version() override { return "stand-in"; }
  std::string DefaultImage() override { return "none"; }
};

class StandInMachine final : public PublishedObject<org::banger::Vm1::Machine_adaptor> {
 public:
  StandInMachine(sdbus::IConnection& c, const std::string& name, std::string state,
                 std::string address)
      : PublishedObject(c, "/org/banger/Vm/machine/" + name),
        name_(name),
        state_(std::move(state)),
        address_(std::move(address)) {
    publish();
  }
  ~StandInMachine() { withdraw(); }
  void setProperty(const std::string& property, const std::string& value) {
    (property == "State" ? state_ : property == "Address" ? address_ : name_) = value;
    propertiesChanged(org::banger::Vm1::Machine_adaptor::INTERFACE_NAME, {property});
  }

 private:
  [[noreturn]] static void no() { fail(ErrorCode::NotSupported, "stand-in"); }
  sdbus::ObjectPath Start() override { no(); }
  sdbus::ObjectPath Stop(const VariantMap&) override { no(); }
  sdbus::ObjectPath Restart() override { no(); }
  void Kill(const std::string&) override { no(); }
  sdbus::ObjectPath Delete(const VariantMap&) override { no(); }
  void Set(sdbus::Result<>&&, VariantMap) override { no(); }
  sdbus::UnixFd OpenConsole() override { no(); }
  void Stats(sdbus::Result<VariantMap>&&) override { no(); }
  void Ports(
      sdbus::Result<std::vector<sdbus::Struct<std::string, std::string, uint16_t, std::string,
                                              uint32_t, std::string>>>&&) override {
    no();
  }
  void Health(sdbus::Result<bool, std::string>&&) override { no(); }
  std::tuple<std::string, std::string, uint16_t, std::string, std::string> SshTarget() override {
    no();
  }
  sdbus::ObjectPath PrepareWorkspace(const std::string&, const VariantMap&) override { no(); }
  void ListWorkspaceFiles(sdbus::Result<std::vector<std::string>>&&, std::string,
                          VariantMap) override {
    no();
  }
  std::string Name() override { return name_; }
  std::string Id() override { return "id-" + name_; }
  std::string State() override { return state_; }
  std::string Image() override { return "debian-bookworm"; }
  std::string Kernel() override { return "debian-cloud"; }
  uint32_t VCpus() override { return 1; }
  uint32_t MemoryMiB() override { return 1024; }
  uint64_t DiskBytes() override { return 8ULL << 30; }
  std::string Address() override { return address_; }
  std::string Gateway() override { return "172.16.0.1"; }
  std::string Mac() override { return "0e:62:00:00:00:00"; }
  std::string Hostname() override { return name_ + ".vm"; }
  bool Nat() override { return false; }
  uint32_t Pid() override { return 0; }
  uint64_t CreatedAt() override { return 0; }
  uint64_t StartedAt() override { return 0; }
  std::string LastError() override { return {}; }

  std::string name_, state_, address_;
};

StandInVm::StandInVm(std::unique_ptr<sdbus::IConnection> connection)
    : connection_(std::move(connection)), loop_(*connection_) {
  manager_ = std::make_unique<StandInManager>(*connection_);
  connection_->requestName("org.banger.Vm");
  thread_ = std::thread([this] { loop_.run(); });
}

StandInVm::~StandInVm() {
  onLoop([this] {
    machines_.clear();
    manager_.reset();
  });
  loop_.stop();
  thread_.join();
}

void StandInVm::add(const std::string& name, const std::string& state, const std::string& address) {
  onLoop([&] {
    machines_[name] = std::make_unique<StandInMachine>(*connection_, name, state, address);
  });
}

void StandInVm::set(const std::string& name, const std::string& property,
                    const std::string& value) {
  onLoop([&] { machines_.at(name)->setProperty(property, value); });
}

void StandInVm::stall(std::chrono::milliseconds pause) {
  loop_.post([pause] { std::this_thread::sleep_for(pause); });
}

void StandInVm::remove(const std::string& name) {
  onLoop([&] { machines_.erase(name); });
}

void StandInVm::emitMalformedSignals() {
  onLoop([&] {
    auto& manager = manager_->object();
    auto added = manager.createSignal("org.freedesktop.DBus.ObjectManager", "InterfacesAdded");
    added << std::string("not an object path and no dictionary");
    added.send();
    auto removed = manager.createSignal("org.freedesktop.DBus.ObjectManager", "InterfacesRemoved");
    removed << uint32_t{7};
    removed.send();
    auto changed = manager.createSignal("org.freedesktop.DBus.Properties", "PropertiesChanged");
    changed << std::string("org.banger.Vm1.Machine") << uint32_t{42};
    changed.send();
  });
}

}  // namespace banger::test
