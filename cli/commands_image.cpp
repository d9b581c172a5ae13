#include <unistd.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "job_watch.h"
#include "properties.h"

namespace banger::cli {
namespace {

nlohmann::json imageJson(const Properties& p) {
  return {{"name", text(p, "Name")},
          {"source", text(p, "Source")},
          {"reference", text(p, "Reference")},
          {"digest", text(p, "Digest")},
          {"kernel", text(p, "Kernel")},
          {"rootfs_path", text(p, "RootfsPath")},
          {"work_seed_path", text(p, "WorkSeedPath")},
          {"rootfs_bytes", number(p, "RootfsBytes")},
          {"created_at", number(p, "CreatedAt")}};
}

int listImages(Context& ctx, bool json) {
  nlohmann::json out = nlohmann::json::array();
  std::vector<Properties> images;
  for (const auto& [path, interfaces] : ctx.buses.imageObjects().GetManagedObjects()) {
    auto it = interfaces.find(names::kImageImage);
    if (it != interfaces.end()) images.push_back(it->second);
  }
  std::sort(images.begin(), images.end(),
            [](const auto& a, const auto& b) { return text(a, "Name") < text(b, "Name"); });
  if (json) {
    for (const auto& p : images) out.push_back(imageJson(p));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (images.empty()) {
    std::cout << "no images; `banger image pull REF` adds one\n";
    return 0;
  }
  std::printf("%-24s %-10s %-10s %-16s %s\n", "NAME", "SOURCE", "SIZE", "CREATED", "REFERENCE");
  for (const auto& p : images)
    std::printf("%-24s %-10s %-10s %-16s %s\n", text(p, "Name").c_str(), text(p, "Source").c_str(),
                humanBytes(number(p, "RootfsBytes")).c_str(),
                localTime(number(p, "CreatedAt")).c_str(), text(p, "Reference").c_str());
  return 0;
}

int showImage(Context& ctx, const std::string& name, bool json) {
  auto image =
      sdbus::createProxy(ctx.buses.user(), names::kImageBus, ctx.buses.image().FindImage(name));
  Properties p;
  image->callMethod("GetAll")
      .onInterface(names::kProperties)
      .withArguments(std::string(names::kImageImage))
      .storeResultsTo(p);
  if (json) {
    std::cout << imageJson(p).dump(2) << "\n";
    return 0;
  }
  std::cout << "Name:         " << text(p, "Name") << "\n"
            << "Source:       " << text(p, "Source") << "\n"
            << "Reference:    " << text(p, "Reference") << "\n";
  if (!text(p, "Digest").empty()) std::cout << "Digest:       " << text(p, "Digest") << "\n";
  std::cout << "Kernel:       " << (text(p, "Kernel").empty() ? "(default)" : text(p, "Kernel"))
            << "\n"
            << "Rootfs:       " << text(p, "RootfsPath") << " ("
            << humanBytes(number(p, "RootfsBytes")) << ")\n"
            << "Work seed:    " << text(p, "WorkSeedPath") << "\n"
            << "Created:      " << localTime(number(p, "CreatedAt")) << "\n";
  return 0;
}

// Follows a pull to its end; the exit status of `image pull`.
int finishPull(Context& ctx, JobWatcher& watcher, const sdbus::ObjectPath& image,
               const sdbus::ObjectPath& job) {
  const JobEnd end = watcher.follow(job, std::cout, isatty(STDOUT_FILENO) != 0);
  if (end.state == "succeeded") {
    auto object = ImageObjectClient(ctx.buses.user(), names::kImageBus, image);
    const std::string digest = object.Digest();
    std::cout << "pulled " << object.Name() << " (" << humanBytes(object.RootfsBytes())
              << (digest.empty() ? "" : ", " + digest) << ")\n";
    return 0;
  }
  if (end.state == "canceled") {
    std::cerr << "banger: pull canceled; nothing was published\n";
    return 130;
  }
  std::cerr << "banger: " << end.errorMessage << "\n";
  if (end.state == "lost")
    std::cerr << "banger: see `journalctl --user -u banger-image` for why the service stopped\n";
  return end.interrupted ? 130 : 1;
}

int printCatalog(Context& ctx, bool json) {
  nlohmann::json out = nlohmann::json::array();
  const auto entries = ctx.buses.image().Catalog();
  for (const auto& e : entries)
    out.push_back({{"name", e.get<0>()},
                   {"kind", e.get<1>()},
                   {"description", e.get<2>()},
                   {"source", e.get<3>()}});
  if (json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%-20s %-7s %s\n", "NAME", "KIND", "DESCRIPTION");
  for (const auto& e : entries)
    std::printf("%-20s %-7s %s\n%-28s from %s\n", e.get<0>().c_str(), e.get<1>().c_str(),
                e.get<2>().c_str(), "", e.get<3>().c_str());
  std::cout << "\nbanger image pull NAME / banger kernel pull NAME fetches one.\n";
  return 0;
}

struct PullOptions {
  std::string ref, name, kernelRef;
  bool force = false;
};
struct RegisterOptions {
  std::string name, rootfs, kernelRef, kernelFile, initrd;
};
struct NamedOptions {  // show, delete
  std::string name;
  bool json = false;
};

}  // namespace

void addImageCommands(CLI::App& app, Context& ctx) {
  auto* image = app.add_subcommand("image", "Pull, register and manage root filesystem images")
                    ->require_subcommand(1);

  auto* pull = image->add_subcommand("pull", "Pull an image from the catalog or an OCI registry");
  auto pulled = std::make_shared<PullOptions>();
  pull->add_option("REF", pulled->ref, "Catalog name (debian-bookworm) or OCI reference")
      ->required();
  pull->add_option("--name", pulled->name, "Local name for the image");
  pull->add_option("--kernel-ref", pulled->kernelRef, "Kernel to boot it with");
  pull->add_flag("--force", pulled->force, "Replace an image of the same name");
  onRun(pull, ctx, [&ctx, pulled] {
    std::map<std::string, sdbus::Variant> options;
    if (!pulled->name.empty()) options["name"] = pulled->name;
    if (!pulled->kernelRef.empty()) options["kernel"] = pulled->kernelRef;
    if (pulled->force) options["force"] = true;
    JobWatcher watcher(ctx.buses.user(), names::kImageBus, names::kImagePath);
    auto [object, job] = ctx.buses.image().Pull(pulled->ref, options);
    return finishPull(ctx, watcher, object, job);
  });

  auto* reg = image->add_subcommand("register", "Register an existing ext4 root filesystem");
  auto registered = std::make_shared<RegisterOptions>();
  reg->add_option("--name", registered->name, "Image name")->required();
  reg->add_option("--rootfs", registered->rootfs, "ext4 root filesystem file")
      ->required()
      ->check(CLI::ExistingFile);
  auto* kr = reg->add_option("--kernel-ref", registered->kernelRef, "Name of a known kernel");
  auto* kf = reg->add_option("--kernel", registered->kernelFile, "A vmlinux file")
                 ->check(CLI::ExistingFile);
  kr->excludes(kf);
  reg->add_option("--initrd", registered->initrd, "An initrd file")->check(CLI::ExistingFile);
  onRun(reg, ctx, [&ctx, registered] {
    const auto& o = *registered;
    if (o.kernelRef.empty() && o.kernelFile.empty()) {
      throw CLI::RequiredError("--kernel-ref or --kernel");
    }
    std::map<std::string, sdbus::Variant> options{{"name", o.name}, {"rootfs", o.rootfs}};
    if (!o.kernelRef.empty()) options["kernel"] = o.kernelRef;
    if (!o.kernelFile.empty()) options["kernel_path"] = o.kernelFile;
    if (!o.initrd.empty()) options["initrd"] = o.initrd;
    std::cout << std::string(ctx.buses.image().Register(options)) << "\n";
    return 0;
  });

  auto* list = image->add_subcommand("list", "List local images");
  auto listed = std::make_shared<NamedOptions>();
  list->add_flag("--json", listed->json, "Print JSON");
  onRun(list, ctx, [&ctx, listed] { return listImages(ctx, listed->json); });

  auto* show = image->add_subcommand("show", "Show one image");
  auto shown = std::make_shared<NamedOptions>();
  show->add_option("NAME", shown->name, "Image name")->required();
  show->add_flag("--json", shown->json, "Print JSON");
  onRun(show, ctx, [&ctx, shown] { return showImage(ctx, shown->name, shown->json); });

  auto* del = image->add_subcommand("delete", "Delete a local image");
  auto deleted = std::make_shared<NamedOptions>();
  del->add_option("NAME", deleted->name, "Image name")->required();
  onRun(del, ctx, [&ctx, deleted] {
    ctx.buses.imageObject(deleted->name).Delete();
    std::cout << "deleted " << deleted->name << "\n";
    return 0;
  });

  auto* catalog = image->add_subcommand(
      "catalog", "List the images and kernels banger can build or pull by name");
  auto cataloged = std::make_shared<NamedOptions>();
  catalog->add_flag("--json", cataloged->json, "Print JSON");
  onRun(catalog, ctx, [&ctx, cataloged] { return printCatalog(ctx, cataloged->json); });
}

}  // namespace banger::cli
