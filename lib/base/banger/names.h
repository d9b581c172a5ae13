// The D-Bus contract's names (DESIGN §3): bus names, root paths, interfaces, polkit
// actions, and where the .vm zone is served. Every literal of these outside the XML in
// interfaces/ comes from here; the generated bindings carry the member names.
#pragma once

namespace banger::names {

inline constexpr const char* kVmBus = "org.banger.Vm";
inline constexpr const char* kVmPath = "/org/banger/Vm";
inline constexpr const char* kVmManager = "org.banger.Vm1.Manager";
inline constexpr const char* kVmMachine = "org.banger.Vm1.Machine";

inline constexpr const char* kImageBus = "org.banger.Image";
inline constexpr const char* kImagePath = "/org/banger/Image";
inline constexpr const char* kImageManager = "org.banger.Image1.Manager";
inline constexpr const char* kImageImage = "org.banger.Image1.Image";
inline constexpr const char* kImageKernel = "org.banger.Image1.Kernel";

inline constexpr const char* kNetBus = "org.banger.Net";
inline constexpr const char* kNetPath = "/org/banger/Net";
inline constexpr const char* kNetManager = "org.banger.Net1.Manager";
inline constexpr const char* kManageLeases = "org.banger.Net.manage-leases";
inline constexpr const char* kConfigureHost = "org.banger.Net.configure-host";

inline constexpr const char* kDnsBus = "org.banger.Dns";
inline constexpr const char* kDnsPath = "/org/banger/Dns";
inline constexpr const char* kDnsManager = "org.banger.Dns1.Manager";
inline constexpr const char* kDnsZone = "vm";
// The host's .vm listener Net binds and hands to the routing owner's banger-dns: a
// privileged port, so no other local user can take it first (docs/dns-routing.md).
inline constexpr const char* kDnsListenDefault = "127.0.0.1:42";

inline constexpr const char* kJob = "org.banger.Job1";

inline constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";
inline constexpr const char* kProperties = "org.freedesktop.DBus.Properties";
inline constexpr const char* kPeer = "org.freedesktop.DBus.Peer";

}  // namespace banger::names
