#include "completion.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "bus_client.h"

namespace banger::cli {
namespace {

// Where a command takes names of live things, and which: `banger __complete KIND` prints them.
const std::map<std::string, std::string> kNameArguments = {
    {"vm start", "vm"},      {"vm stop", "vm"},         {"vm restart", "vm"},
    {"vm kill", "vm"},       {"vm delete", "vm"},       {"vm show", "vm"},
    {"vm ssh", "vm"},        {"vm logs", "vm"},         {"vm stats", "vm"},
    {"vm ports", "vm"},      {"vm set", "vm"},          {"vm workspace prepare", "vm"},
    {"image show", "image"}, {"image delete", "image"}, {"kernel show", "kernel"},
    {"kernel rm", "kernel"}};
// Flags whose value is such a name.
const std::map<std::string, std::string> kNameFlags = {{"--image", "image"},
                                                       {"--kernel-ref", "kernel"}};

// "" → top-level words, "vm" → words after `banger vm`, "vm workspace" → ...
using WordTable = std::map<std::string, std::vector<std::string>>;

void collect(const CLI::App& app, const std::string& path, WordTable& table) {
  auto& words = table[path];
  for (const auto* sub : app.get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden: __complete
    words.push_back(sub->get_name());
    collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), table);
  }
  for (const auto* opt : app.get_options()) {
    for (const auto& name : opt->get_lnames()) words.push_back("--" + name);
  }
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string bash(const WordTable& table) {
  std::ostringstream s;
  s << "# banger completion for bash (and zsh through bashcompinit)\n"
    << "__banger_words() {\n  case \"$1\" in\n";
  for (const auto& [path, words] : table)
    s << "    \"" << path << "\") echo \"" << join(words) << "\";;\n";
  s << "  esac\n}\n"
    << "# Live names, from the services only if they already run (never starts one).\n"
    << "__banger_kind() {\n  case \"$1\" in\n";
  for (const auto& [flag, kind] : kNameFlags)
    s << "    \"flag " << flag << "\") echo " << kind << ";;\n";
  for (const auto& [path, kind] : kNameArguments)
    s << "    \"" << path << "\") echo " << kind << ";;\n";
  s << "  esac\n}\n"
    << "_banger() {\n"
    << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path=\"\" "
       "i w kind typed=\" \" names=\"\" n\n"
    << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    << "    w=\"${COMP_WORDS[i]}\"\n"
    << "    typed+=\"$w \"\n"
    << "    [[ $w == -* ]] && continue\n"
    << "    case \" $(__banger_words \"$path\") \" in *\" $w \"*) path=\"${path:+$path }$w\";; "
       "esac\n"
    << "  done\n"
    << "  kind=$(__banger_kind \"flag $prev\")\n"
    << "  [[ -z $kind && $cur != -* ]] && kind=$(__banger_kind \"$path\")\n"
    << "  if [[ -n $kind ]]; then\n"
    << "    for n in $(\"${COMP_WORDS[0]}\" __complete \"$kind\" 2>/dev/null); do\n"
    << "      [[ $typed == *\" $n \"* ]] || names+=\"$n \"\n"
    << "    done\n"
    << "    COMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n"
    << "    return\n"
    << "  fi\n"
    << "  COMPREPLY=($(compgen -W \"$(__banger_words \"$path\")\" -- \"$cur\"))\n"
    << "}\n"
    << "complete -F _banger banger\n";
  return s.str();
}

std::string fish(const WordTable& table) {
  std::ostringstream s;
  s << "# banger completion for fish\ncomplete -c banger -f\n";
  for (const auto& [path, words] : table) {
    std::string condition = "__fish_use_subcommand";
    if (!path.empty()) {
      const std::string last =
          path.substr(path.rfind(' ') == std::string::npos ? 0 : path.rfind(' ') + 1);
      condition = "__fish_seen_subcommand_from " + last;
    }
    s << "complete -c banger -n '" << condition << "' -a '" << join(words) << "'\n";
  }
  for (const auto& [path, kind] : kNameArguments) {
    const std::string verb = path.substr(path.rfind(' ') + 1);
    const std::string group = path.substr(0, path.find(' '));
    s << "complete -c banger -n '__fish_seen_subcommand_from " << group
      << "; and __fish_seen_subcommand_from " << verb << "' -a '(banger __complete " << kind
      << " 2>/dev/null)'\n";
  }
  for (const auto& [flag, kind] : kNameFlags)
    s << "complete -c banger -l " << flag.substr(2) << " -x -a '(banger __complete " << kind
      << " 2>/dev/null)'\n";
  return s.str();
}

}  // namespace

std::string completionScript(const CLI::App& app, const std::string& shell) {
  WordTable table;
  collect(app, "", table);
  if (shell == "fish") return fish(table);
  if (shell == "zsh") return "autoload -U +X bashcompinit && bashcompinit\n" + bash(table);
  return bash(table);
}

void printLiveNames(sdbus::IConnection& bus, const std::string& kind, std::ostream& out) {
  const bool machines = kind == "vm";
  std::vector<std::string> names;
  try {
    std::string owner;  // a unique name: a call to it never activates anything
    busDaemon(bus)
        ->callMethod("GetNameOwner")
        .onInterface(kBusDaemonInterface)
        .withArguments(std::string(machines ? names::kVmBus : names::kImageBus))
        .storeResultsTo(owner);
    if (machines) {
      VmClient vm(bus, owner, names::kVmPath);
      for (const auto& machine : vm.ListMachines()) names.push_back(machine.get<0>());
    } else {
      const char* interface = kind == "image" ? names::kImageImage : names::kImageKernel;
      ObjectsClient objects(bus, owner, names::kImagePath);
      for (const auto& [path, interfaces] : objects.GetManagedObjects())
        if (auto it = interfaces.find(interface); it != interfaces.end())
          if (auto name = it->second.find("Name"); name != it->second.end())
            names.push_back(name->second.get<std::string>());
    }
  } catch (const sdbus::Error&) {
    return;  // no bus, no service running: nothing to offer
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) out << name << "\n";
}

}  // namespace banger::cli
