#include "completion.h"

#include <map>
#include <sstream>

namespace banger::cli {
namespace {

// "" → top-level words, "vm" → words after `banger vm`, "vm workspace" → ...
using WordTable = std::map<std::string, std::vector<std::string>>;

void collect(const CLI::App& app, const std::string& path, WordTable& table) {
  auto& words = table[path];
  for (const auto* sub : app.get_subcommands({})) {
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
    << "_banger() {\n"
    << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" i w\n"
    << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    << "    w=\"${COMP_WORDS[i]}\"\n"
    << "    [[ $w == -* ]] && continue\n"
    << "    case \" $(__banger_words \"$path\") \" in *\" $w \"*) path=\"${path:+$path }$w\";; "
       "esac\n"
    << "  done\n"
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

}  // namespace banger::cli
