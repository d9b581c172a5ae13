#!/usr/bin/env bash
# The whole test suite on a fresh build: installs what it needs, configures a clean
# build directory, builds with warnings as errors and runs every suite. Tests that need
# root (private system bus with polkitd, network namespaces) run when this runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=${BUILD_DIR:-build-test}
rm -rf "$build"
meson setup "$build" --buildtype=debugoptimized
ninja -C "$build"

# The set-up command's build, warnings as errors, installed into a scratch DESTDIR: the
# path scripts/setup.sh takes must never break unseen.
product_build=${PRODUCT_BUILD_DIR:-build-product}
rm -rf "$product_build"
scripts/build-product.sh "$product_build" -Dwerror=true
destdir=$(mktemp -d)
trap 'rm -rf "$destdir"' EXIT
meson install -C "$product_build" --destdir "$destdir" --quiet
for installed in usr/bin/banger usr/libexec/banger/banger-vm usr/libexec/banger/banger-net \
  usr/share/dbus-1/system.d/org.banger.Net.conf usr/share/polkit-1/actions/org.banger.Net.policy \
  usr/libexec/banger/guest/banger-init usr/libexec/banger/guest/banger-agent \
  usr/libexec/banger/guest/banger-first-boot usr/libexec/banger/guest/banger-agent.service; do
  [ -e "$destdir/$installed" ] || { echo "test.sh: meson install did not install /$installed" >&2; exit 1; }
done
"$destdir/usr/bin/banger" --version

# libFuzzer targets need clang; they get their own build directory.
fuzz_build=${FUZZ_BUILD_DIR:-build-fuzz}
rm -rf "$fuzz_build"
CXX=clang++ meson setup "$fuzz_build" -Dfuzzing=true --buildtype=debugoptimized
ninja -C "$fuzz_build"

results="$PWD/$build/gtest-results"
mkdir -p "$results"
status=0
GTEST_OUTPUT="xml:$results/" meson test -C "$build" --print-errorlogs --num-processes 2 || status=$?
meson test -C "$fuzz_build" --print-errorlogs || status=$?
grep -h -E '^systemd-analyze security' "$build/meson-logs/testlog.txt" || true
grep -h -E '^stat::number_of_executed_units' "$fuzz_build/meson-logs/testlog.txt" | sed 's/^/fuzz run: /' || true

# One closing line with the counts of individual test cases across every suite.
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + '/*.xml'):
    for case in ET.parse(f).getroot().iter('testcase'):
        if case.find('failure') is not None:
            failed += 1
        elif case.get('result') == 'skipped' or case.find('skipped') is not None:
            skipped += 1
        else:
            passed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
