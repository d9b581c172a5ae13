#include "net_manager.h"

#include <sdbus-c++/Message.h>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger::net {
namespace {
const std::vector<OptionKey> kAcquireKeys = {{"nat", "b"}};
}  // namespace

void validateVmId(const std::string& vmId) {
  const bool shapeOk =
      !vmId.empty() && vmId.size() <= 64 && std::isalnum(static_cast<unsigned char>(vmId[0]));
  const bool charsOk =
      vmId.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
      std::string::npos;
  if (!shapeOk || !charsOk) {
    fail(ErrorCode::InvalidArgument,
         "vm_id must be 1 to 64 characters of letters, digits, '.', '_' and '-', starting with a "
         "letter or digit");
  }
}

NetManager::NetManager(ServiceContext& context, NetConfig config,
                       const std::filesystem::path& database, NetDependencies dependencies)
    : AdaptorInterfaces(context.connection, kRootPath),
      guard_(context.guard),
      loop_(context.loop),
      worker_(context.pool),
      deps_(std::move(dependencies)),
      store_(database),
      leases_(std::move(config), store_, *deps_.network, *deps_.firewall),
      routing_(store_, leases_, *deps_.network, *deps_.resolver),
      authorization_(*deps_.authorizer, AuthorizationQueue::Limits{}) {
  leases_.reconcile();
  resolverConfigured_ = routing_.owner().has_value();
  registerAdaptor();
}

NetManager::~NetManager() { unregisterAdaptor(); }

NetManager::Caller NetManager::caller() {
  const auto* message = getObject().getCurrentlyProcessedMessage();
  return {message->getCredsUid(), message->getSender()};
}

template <class Reply, class Work>
void NetManager::onWorker(const Reply& reply, Work work) {
  try {
    worker_.submit([reply, work] {
      try {
        work();
      } catch (...) {
        reply.fail(std::current_exception());
      }
    });
  } catch (...) {
    reply.fail(std::current_exception());
  }
}

template <class Reply, class Work>
void NetManager::authorizeThen(const Caller& who, const char* action,
                               std::map<std::string, std::string> details, const Reply& reply,
                               Work work) {
  if (who.uid == 0) {
    onWorker(reply, std::move(work));
    return;
  }
  authorization_.check(
      {who.uid, who.sender, action, std::move(details)},
      [this, reply, work, uid = who.uid, action](Verdict verdict, const std::string& why) {
        if (verdict == Verdict::Allowed) {
          onWorker(reply, work);
          return;
        }
        log::info((verdict == Verdict::Busy ? "busy: " : "denied ") + std::string(action) +
                  " to uid " + std::to_string(uid));
        reply.fail(std::make_exception_ptr(
            Error(verdict == Verdict::Busy ? ErrorCode::Busy : ErrorCode::AccessDenied, why)));
      });
}

void NetManager::AcquireLease(LeaseResult&& result, std::string vm_id, VariantMap options) {
  guardAsync(guard_, loop_, "Net1.Manager.AcquireLease", std::move(result), [&](const auto& reply) {
    validateVmId(vm_id);
    const auto nat = Options::parse(options, kAcquireKeys).boolean("nat");
    const Caller who = caller();
    authorizeThen(who, kManageLeases, {{"vm_id", vm_id}, {"verb", "acquire"}}, reply,
                  [this, reply, who, vm_id, nat] {
                    const Lease lease = leases_.acquire(who.uid, vm_id, nat);
                    const auto& config = leases_.config();
                    reply.succeed(lease.tap, lease.mac, lease.address, config.subnet.prefix,
                                  config.gateway.str(), deps_.nameservers());
                    leases_.refillPool(who.uid);  // after the reply: keeps the next acquire fast
                  });
  });
}

void NetManager::ReleaseLease(sdbus::Result<>&& result, std::string vm_id) {
  guardAsync(guard_, loop_, "Net1.Manager.ReleaseLease", std::move(result), [&](const auto& reply) {
    validateVmId(vm_id);
    const Caller who = caller();
    authorizeThen(who, kManageLeases, {{"vm_id", vm_id}, {"verb", "release"}}, reply,
                  [this, reply, who, vm_id] {
                    leases_.release(who.uid, vm_id);
                    reply.succeed();
                    loop_.post([this] { scheduleTrim(); });
                  });
  });
}

void NetManager::SetNat(sdbus::Result<>&& result, std::string vm_id, bool enabled) {
  guardAsync(guard_, loop_, "Net1.Manager.SetNat", std::move(result), [&](const auto& reply) {
    validateVmId(vm_id);
    const Caller who = caller();
    authorizeThen(who, kManageLeases, {{"vm_id", vm_id}, {"verb", enabled ? "nat-on" : "nat-off"}},
                  reply, [this, reply, who, vm_id, enabled] {
                    leases_.setNat(who.uid, vm_id, enabled);
                    reply.succeed();
                  });
  });
}

void NetManager::ListLeases(sdbus::Result<LeaseRows>&& result) {
  guardAsync(guard_, loop_, "Net1.Manager.ListLeases", std::move(result), [&](const auto& reply) {
    const Caller who = caller();
    onWorker(reply, [this, reply, who] {
      LeaseRows rows;
      for (const auto& l :
           leases_.list(who.uid == 0 ? std::nullopt : std::optional<uid_t>(who.uid))) {
        rows.emplace_back(static_cast<uint32_t>(l.uid), l.vmId, l.tap, l.address, l.nat);
      }
      reply.succeed(rows);
    });
  });
}

void NetManager::ConfigureResolver(sdbus::Result<>&& result, bool enabled) {
  guardAsync(
      guard_, loop_, "Net1.Manager.ConfigureResolver", std::move(result), [&](const auto& reply) {
        const Caller who = caller();
        authorizeThen(who, kConfigureHost, {{"verb", enabled ? "resolver-on" : "resolver-off"}},
                      reply, [this, reply, who, enabled] {
                        routing_.configure(who.uid, enabled);
                        loop_.post([this, enabled] { publishResolverConfigured(enabled); });
                        reply.succeed();
                      });
      });
}

void NetManager::OpenDnsListener(sdbus::Result<sdbus::UnixFd, sdbus::UnixFd>&& result) {
  guardAsync(
      guard_, loop_, "Net1.Manager.OpenDnsListener", std::move(result), [&](const auto& reply) {
        const Caller who = caller();
        authorizeThen(who, kConfigureHost, {{"verb", "dns-listener"}}, reply, [this, reply, who] {
          const auto listener = routing_.openListener(who.uid);
          reply.succeed(sdbus::UnixFd(listener.udp, sdbus::adopt_fd),
                        sdbus::UnixFd(listener.tcp, sdbus::adopt_fd));
        });
      });
}

void NetManager::publishResolverConfigured(bool configured) {
  if (resolverConfigured_ == configured) return;
  resolverConfigured_ = configured;
  emitPropertiesChangedSignal(org::banger::Net1::Manager_adaptor::INTERFACE_NAME,
                              {"ResolverConfigured"});
}

void NetManager::scheduleTrim() {
  if (trimTimer_) loop_.cancelTimer(*trimTimer_);
  trimTimer_ = loop_.addTimer(std::chrono::seconds(2), [this] {
    trimTimer_.reset();
    try {
      worker_.submit([this] {
        try {
          leases_.trimPools();
        } catch (const std::exception& e) {
          log::warning(std::string("trimming the TAP pools failed: ") + e.what());
        }
      });
    } catch (const std::exception& e) {
      log::warning(std::string("trimming the TAP pools postponed: ") + e.what());
    }
  });
}

std::string NetManager::Bridge() {
  return guard_("Net1.Manager.Bridge", [&] { return leases_.config().bridge; });
}
std::string NetManager::Subnet() {
  return guard_("Net1.Manager.Subnet", [&] { return leases_.config().subnet.str(); });
}
std::string NetManager::Gateway() {
  return guard_("Net1.Manager.Gateway", [&] { return leases_.config().gateway.str(); });
}
bool NetManager::ResolverConfigured() {
  return guard_("Net1.Manager.ResolverConfigured", [&] { return resolverConfigured_; });
}

}  // namespace banger::net
