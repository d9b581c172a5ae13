// The D-Bus contract's names (DESIGN §3): bus names, object paths, interfaces, polkit
// actions. Code outside a service that speaks to it takes the names from here.
#pragma once

namespace banger::names {

inline constexpr const char* kVmBus = "org.banger.Vm";
inline constexpr const char* kVmPath = "/org/banger/Vm";
inline constexpr const char* kVmMachine = "org.banger.Vm1.Machine";

inline constexpr const char* kNetBus = "org.banger.Net";
inline constexpr const char* kNetPath = "/org/banger/Net";
inline constexpr const char* kNetManager = "org.banger.Net1.Manager";
inline constexpr const char* kManageLeases = "org.banger.Net.manage-leases";
inline constexpr const char* kConfigureHost = "org.banger.Net.configure-host";

inline constexpr const char* kDnsBus = "org.banger.Dns";
inline constexpr const char* kDnsPath = "/org/banger/Dns";

}  // namespace banger::names
