// banger kernel pull|import|list|show|rm (docs/cli.md).
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "job_watch.h"
#include "properties.h"

namespace banger::cli {
namespace {

struct NamedOptions {
  std::string name;
  bool json = false;
  bool force = false;
};
struct ImportKernelOptions {
  std::string name, vmlinux, initrd, modules;
};

nlohmann::json kernelJson(const Properties& p) {
  return {{"name", text(p, "Name")},
          {"version", text(p, "Version")},
          {"source", text(p, "Source")},
          {"reference", text(p, "Reference")},
          {"vmlinux_path", text(p, "VmlinuxPath")},
          {"initrd_path", text(p, "InitrdPath")},
          {"modules", words(p, "Modules")},
          {"pvh_entry", flag(p, "PvhEntry")},
          {"created_at", number(p, "CreatedAt")}};
}

Properties kernelProperties(Context& ctx, const sdbus::ObjectPath& path) {
  auto kernel = sdbus::createProxy(ctx.buses.user(), names::kImageBus, path);
  Properties p;
  kernel->callMethod("GetAll")
      .onInterface(names::kProperties)
      .withArguments(std::string(names::kImageKernel))
      .storeResultsTo(p);
  return p;
}

int listKernels(Context& ctx, bool json) {
  std::vector<Properties> kernels;
  for (const auto& [path, interfaces] : ctx.buses.imageObjects().GetManagedObjects()) {
    auto it = interfaces.find(names::kImageKernel);
    if (it != interfaces.end()) kernels.push_back(it->second);
  }
  std::sort(kernels.begin(), kernels.end(),
            [](const auto& a, const auto& b) { return text(a, "Name") < text(b, "Name"); });
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : kernels) out.push_back(kernelJson(p));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (kernels.empty()) {
    std::cout << "no kernels; `banger kernel pull debian-cloud` fetches the default\n";
    return 0;
  }
  std::printf("%-20s %-26s %-9s %-7s %s\n", "NAME", "VERSION", "SOURCE", "INITRD", "CREATED");
  for (const auto& p : kernels)
    std::printf("%-20s %-26s %-9s %-7s %s\n", text(p, "Name").c_str(), text(p, "Version").c_str(),
                text(p, "Source").c_str(), text(p, "InitrdPath").empty() ? "no" : "yes",
                localTime(number(p, "CreatedAt")).c_str());
  return 0;
}

int showKernel(Context& ctx, const std::string& name, bool json) {
  const Properties p = kernelProperties(ctx, ctx.buses.image().FindKernel(name));
  if (json) {
    std::cout << kernelJson(p).dump(2) << "\n";
    return 0;
  }
  std::string modules;
  for (const auto& module : words(p, "Modules")) modules += (modules.empty() ? "" : " ") + module;
  std::cout << "Name:         " << text(p, "Name") << "\n"
            << "Version:      " << text(p, "Version") << "\n"
            << "Source:       " << text(p, "Source") << "\n"
            << "Reference:    " << text(p, "Reference") << "\n"
            << "vmlinux:      " << text(p, "VmlinuxPath")
            << (flag(p, "PvhEntry") ? " (PVH entry)" : " (no PVH note: 64-bit Linux boot)") << "\n"
            << "initrd:       "
            << (text(p, "InitrdPath").empty() ? "(none)" : text(p, "InitrdPath")) << "\n";
  if (!modules.empty()) std::cout << "Modules:      " << modules << "\n";
  std::cout << "Created:      " << localTime(number(p, "CreatedAt")) << "\n";
  return 0;
}

int pullKernel(Context& ctx, const NamedOptions& o) {
  std::map<std::string, sdbus::Variant> options;
  if (o.force) options["force"] = true;
  JobWatcher watcher(ctx.buses.user(), names::kImageBus, names::kImagePath);
  auto [object, job] = ctx.buses.image().PullKernel(o.name, options);
  const JobEnd end = watcher.follow(job, std::cout, isatty(STDOUT_FILENO) != 0);
  if (end.state == "succeeded") {
    const Properties p = kernelProperties(ctx, object);
    std::cout << "pulled kernel " << text(p, "Name") << " (Linux " << text(p, "Version") << ", "
              << words(p, "Modules").size() << " modules in its initrd)\n";
    return 0;
  }
  if (end.state == "canceled") {
    std::cerr << "banger: pull canceled; nothing was kept\n";
    return 130;
  }
  std::cerr << "banger: " << end.errorMessage << "\n";
  if (end.state == "lost")
    std::cerr << "banger: see `journalctl --user -u banger-image` for why the service stopped\n";
  return end.interrupted ? 130 : 1;
}

}  // namespace

void addKernelCommands(CLI::App& app, Context& ctx) {
  auto* kernel =
      app.add_subcommand("kernel", "Pull, import and manage guest kernels")->require_subcommand(1);

  auto* pull = kernel->add_subcommand("pull", "Pull a kernel from the catalog (debian-cloud)");
  auto pulled = std::make_shared<NamedOptions>();
  pull->add_option("NAME", pulled->name, "Catalog kernel name")->required();
  pull->add_flag("--force", pulled->force, "Replace a kernel of the same name");
  onRun(pull, ctx, [&ctx, pulled] { return pullKernel(ctx, *pulled); });

  auto* import = kernel->add_subcommand(
      "import", "Import a vmlinux (or bzImage), with an initrd of your own or a modules directory");
  auto imported = std::make_shared<ImportKernelOptions>();
  import->add_option("--name", imported->name, "Kernel name")->required();
  import->add_option("--vmlinux", imported->vmlinux, "ELF vmlinux (or bzImage) file")
      ->required()
      ->check(CLI::ExistingFile);
  auto* initrd = import->add_option("--initrd", imported->initrd, "initrd file, used as it is")
                     ->check(CLI::ExistingFile);
  import
      ->add_option("--modules", imported->modules,
                   "Modules directory; banger builds an initrd with banger-init and the ones "
                   "guests need")
      ->check(CLI::ExistingDirectory)
      ->excludes(initrd);
  onRun(import, ctx, [&ctx, imported] {
    const auto absolute = [](const std::string& path) {
      return path.empty() ? path : std::filesystem::absolute(path).string();
    };
    const auto& o = *imported;
    std::map<std::string, sdbus::Variant> options{{"name", o.name},
                                                  {"vmlinux", absolute(o.vmlinux)}};
    if (!o.initrd.empty()) options["initrd"] = absolute(o.initrd);
    if (!o.modules.empty()) options["modules"] = absolute(o.modules);
    const Properties p = kernelProperties(ctx, ctx.buses.image().ImportKernel(options));
    std::cout << "imported kernel " << text(p, "Name") << " (Linux " << text(p, "Version") << ")\n";
    return 0;
  });

  auto* list = kernel->add_subcommand("list", "List local kernels");
  auto listed = std::make_shared<NamedOptions>();
  list->add_flag("--json", listed->json, "Print JSON");
  onRun(list, ctx, [&ctx, listed] { return listKernels(ctx, listed->json); });

  auto* show = kernel->add_subcommand("show", "Show one kernel");
  auto shown = std::make_shared<NamedOptions>();
  show->add_option("NAME", shown->name, "Kernel name")->required();
  show->add_flag("--json", shown->json, "Print JSON");
  onRun(show, ctx, [&ctx, shown] { return showKernel(ctx, shown->name, shown->json); });

  auto* rm = kernel->add_subcommand("rm", "Delete a local kernel (refused while an image uses it)");
  auto removed = std::make_shared<NamedOptions>();
  rm->add_option("NAME", removed->name, "Kernel name")->required();
  onRun(rm, ctx, [&ctx, removed] {
    ctx.buses.kernel(removed->name).Delete();
    std::cout << "deleted kernel " << removed->name << "\n";
    return 0;
  });
}

}  // namespace banger::cli
