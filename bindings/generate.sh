#!/usr/bin/env bash
# Regenerates the P/Invoke layer (src/CircleLoss.Interop/Native/NativeMethods.*.g.cs) and the layout
# test data (tests/CircleLoss.Interop.Tests/Generated/NativeLayout.g.cs) from
# native/include/circleloss/circleloss.h. Runs on linux-x64 (the libclang package the generator uses).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec dotnet run --project "$root/bindings/CircleLoss.Bindings.Generator/CircleLoss.Bindings.Generator.csproj" \
  -c Release -- --root "$root" "$@"
