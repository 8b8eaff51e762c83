#!/usr/bin/env bash
# Cross-builds the native core (and its tests) for linux-arm64 and/or win-x64 into $BUILD_DIR/cross/<rid>.
#   eng/cross/build.sh [rid...]      (default: every cross RID)    CONFIGURATION: Release
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$cross_root"
configuration="${CONFIGURATION:-Release}"
rids=("$@")
((${#rids[@]})) || rids=("${CROSS_RIDS[@]}")
for rid in "${rids[@]}"; do
  cross_native_file "$rid" >/dev/null
  echo "==> cross build $rid ($configuration)"
  cmake -S . -B "$CROSS_BUILD_DIR/$rid" -DCMAKE_TOOLCHAIN_FILE="$cross_root/native/toolchains/$rid.cmake" \
    -DCMAKE_BUILD_TYPE="$configuration" -DCIRCLELOSS_CUDA=OFF >/dev/null
  nice -n 5 cmake --build "$CROSS_BUILD_DIR/$rid" -j"$(nproc)"
  eng/check-native-deps.sh "$(cross_native_file "$rid")"
done
