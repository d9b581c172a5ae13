#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace banger::cli {
namespace {

// Lists the objects of one interface under the Image service's ObjectManager.
int listObjects(Context& ctx, const std::string& interface, bool json) {
  auto proxy = sdbus::createProxy(ctx.buses.user(), "org.banger.Image", "/org/banger/Image");
  std::map<sdbus::ObjectPath, std::map<std::string, std::map<std::string, sdbus::Variant>>> objects;
  proxy->callMethod("GetManagedObjects")
      .onInterface("org.freedesktop.DBus.ObjectManager")
      .storeResultsTo(objects);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [path, interfaces] : objects) {
    auto it = interfaces.find(interface);
    if (it == interfaces.end()) continue;
    const auto& props = it->second;
    const std::string name = props.count("Name") ? props.at("Name").get<std::string>() : "";
    const std::string source = props.count("Source") ? props.at("Source").get<std::string>() : "";
    out.push_back({{"name", name}, {"source", source}, {"path", std::string(path)}});
    if (!json) std::cout << name << "\t" << source << "\n";
  }
  if (json) std::cout << out.dump(2) << "\n";
  return 0;
}

void printJob(const sdbus::ObjectPath& object, const sdbus::ObjectPath& job) {
  std::cout << std::string(object) << " (job " << std::string(job) << ")\n";
}

}  // namespace

void addImageCommands(CLI::App& app, Context& ctx) {
  auto* image = app.add_subcommand("image", "Pull, register and manage root filesystem images")
                    ->require_subcommand(1);

  static std::string ref, name, kernelRef, kernelFile, rootfs, initrd;
  auto* pull = image->add_subcommand("pull", "Pull an image from the catalog or an OCI registry");
  pull->add_option("REF", ref, "Catalog name (debian-bookworm) or OCI reference")->required();
  pull->add_option("--name", name, "Local name for the image");
  pull->add_option("--kernel-ref", kernelRef, "Kernel to boot it with");
  onRun(pull, ctx, [&ctx] {
    std::map<std::string, sdbus::Variant> options;
    if (!name.empty()) options["name"] = name;
    if (!kernelRef.empty()) options["kernel"] = kernelRef;
    auto [object, job] = ctx.buses.image().Pull(ref, options);
    printJob(object, job);
    return 0;
  });

  auto* reg = image->add_subcommand("register", "Register an existing ext4 root filesystem");
  reg->add_option("--name", name, "Image name")->required();
  reg->add_option("--rootfs", rootfs, "ext4 root filesystem file")
      ->required()
      ->check(CLI::ExistingFile);
  auto* kr = reg->add_option("--kernel-ref", kernelRef, "Name of a known kernel");
  auto* kf = reg->add_option("--kernel", kernelFile, "A vmlinux file")->check(CLI::ExistingFile);
  kr->excludes(kf);
  reg->add_option("--initrd", initrd, "An initrd file")->check(CLI::ExistingFile);
  onRun(reg, ctx, [&ctx] {
    if (kernelRef.empty() && kernelFile.empty()) {
      throw CLI::RequiredError("--kernel-ref or --kernel");
    }
    std::map<std::string, sdbus::Variant> options{{"name", name}, {"rootfs", rootfs}};
    if (!kernelRef.empty()) options["kernel"] = kernelRef;
    if (!kernelFile.empty()) options["kernel_path"] = kernelFile;
    if (!initrd.empty()) options["initrd"] = initrd;
    std::cout << std::string(ctx.buses.image().Register(options)) << "\n";
    return 0;
  });

  static bool json = false;
  auto* list = image->add_subcommand("list", "List local images");
  list->add_flag("--json", json, "Print JSON");
  onRun(list, ctx, [&ctx] { return listObjects(ctx, "org.banger.Image1.Image", json); });

  auto* show = image->add_subcommand("show", "Show one image");
  show->add_option("NAME", name, "Image name")->required();
  show->add_flag("--json", json, "Print JSON");
  onRun(show, ctx, [&ctx] {
    std::cout << std::string(ctx.buses.image().FindImage(name)) << "\n";
    return 0;
  });

  auto* del = image->add_subcommand("delete", "Delete a local image");
  del->add_option("NAME", name, "Image name")->required();
  onRun(del, ctx, [&ctx] {
    auto path = ctx.buses.image().FindImage(name);
    sdbus::createProxy(ctx.buses.user(), "org.banger.Image", path)
        ->callMethod("Delete")
        .onInterface("org.banger.Image1.Image");
    return 0;
  });

  auto* catalog =
      image->add_subcommand("catalog", "List the images banger can build or pull by name");
  catalog->add_flag("--json", json, "Print JSON");
  onRun(catalog, ctx, [&ctx] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : ctx.buses.image().Catalog()) {
      out.push_back({{"name", e.get<0>()},
                     {"kind", e.get<1>()},
                     {"description", e.get<2>()},
                     {"source", e.get<3>()}});
      if (!json) std::cout << e.get<0>() << "\t" << e.get<1>() << "\t" << e.get<2>() << "\n";
    }
    if (json) std::cout << out.dump(2) << "\n";
    return 0;
  });
}

void addKernelCommands(CLI::App& app, Context& ctx) {
  auto* kernel =
      app.add_subcommand("kernel", "Pull, import and manage guest kernels")->require_subcommand(1);
  static std::string name, vmlinux, initrd, modules;
  static bool json = false;

  auto* pull = kernel->add_subcommand("pull", "Pull a kernel from the catalog (debian-cloud)");
  pull->add_option("NAME", name, "Catalog kernel name")->required();
  onRun(pull, ctx, [&ctx] {
    auto [object, job] = ctx.buses.image().PullKernel(name, {});
    printJob(object, job);
    return 0;
  });

  auto* import =
      kernel->add_subcommand("import", "Import a vmlinux (and optional initrd, modules)");
  import->add_option("--name", name, "Kernel name")->required();
  import->add_option("--vmlinux", vmlinux, "ELF vmlinux file")
      ->required()
      ->check(CLI::ExistingFile);
  import->add_option("--initrd", initrd, "initrd file")->check(CLI::ExistingFile);
  import->add_option("--modules", modules, "Modules directory")->check(CLI::ExistingDirectory);
  onRun(import, ctx, [&ctx] {
    std::map<std::string, sdbus::Variant> options{{"name", name}, {"vmlinux", vmlinux}};
    if (!initrd.empty()) options["initrd"] = initrd;
    if (!modules.empty()) options["modules"] = modules;
    std::cout << std::string(ctx.buses.image().ImportKernel(options)) << "\n";
    return 0;
  });

  auto* list = kernel->add_subcommand("list", "List local kernels");
  list->add_flag("--json", json, "Print JSON");
  onRun(list, ctx, [&ctx] { return listObjects(ctx, "org.banger.Image1.Kernel", json); });

  auto* show = kernel->add_subcommand("show", "Show one kernel");
  show->add_option("NAME", name, "Kernel name")->required();
  show->add_flag("--json", json, "Print JSON");
  onRun(show, ctx, [&ctx] {
    std::cout << std::string(ctx.buses.image().FindKernel(name)) << "\n";
    return 0;
  });

  auto* rm = kernel->add_subcommand("rm", "Delete a local kernel");
  rm->add_option("NAME", name, "Kernel name")->required();
  onRun(rm, ctx, [&ctx] {
    auto path = ctx.buses.image().FindKernel(name);
    sdbus::createProxy(ctx.buses.user(), "org.banger.Image", path)
        ->callMethod("Delete")
        .onInterface("org.banger.Image1.Kernel");
    return 0;
  });
}

}  // namespace banger::cli
