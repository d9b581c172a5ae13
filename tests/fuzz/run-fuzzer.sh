#!/usr/bin/env bash
# run-fuzzer.sh FUZZER CORPUS_DIR SECONDS
# A short, bounded fuzz run seeded with the checked-in corpus. New inputs go to a temp
# dir (not the repository); a crash fails the test and leaves its input in the log dir.
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=${MESON_BUILD_ROOT:-$PWD}/fuzz-artifacts/
mkdir -p "$artifacts"
# libFuzzer's own exit code for a crash or a timeout is 77, which meson counts as a skip:
# a finding must fail the test.
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$artifacts" "$work" "$corpus"
