#!/usr/bin/env pwsh
<#
.SYNOPSIS
    build.sh's tasks for PowerShell users: the same tasks, run by build.sh itself (one definition of the steps).
.DESCRIPTION
    Deps      install what the build needs (Debian packages, the cross compilers and emulators, .NET local tools)
    Native    configure and build the native library and its tests (CMake, Release)
    Bindings  regenerate the P/Invoke bindings from the C header and fail on any difference
    Build     Native + Bindings + the .NET solution
    Test      Build, then every test suite (ctest, xunit, mpirun 1-4 ranks, Pester, cross: linux-arm64 and win-x64 under
              qemu-aarch64 and wine, packaging, reliability: fuzz, sanitizers, valgrind); each writes a machine-readable
              result and eng/test-summary.ps1 prints "N passed, N failed, N skipped". CIRCLELOSS_QUICK=1 skips
              reliability and the emulated native tests.
    Pack      the NuGet packages (runtime packages for linux-x64, linux-arm64, win-x64) and the PowerShell module
              into artifacts/
    Demo      the main job: `circleloss demo`
    The steps need a Debian or Ubuntu machine (apt, the cross toolchains, the emulators) and bash, which runs them.
    On a fresh machine run it through the repository's local PowerShell tool:
        dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Deps', 'Native', 'Bindings', 'Build', 'Test', 'Pack', 'Demo')]
    [string] $Task = 'Build',
    [string] $Configuration = $(if ($env:CONFIGURATION) { $env:CONFIGURATION } else { 'Release' }),
    [ValidateSet('AUTO', 'ON', 'OFF')]
    [string] $Cuda = $(if ($env:CIRCLELOSS_CUDA) { $env:CIRCLELOSS_CUDA } else { 'AUTO' }),
    [Parameter(ValueFromRemainingArguments)]
    [string[]] $DemoArguments = @()
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$bash = Get-Command bash -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $bash) {
    throw 'build.ps1 runs the steps of build.sh, which need bash and a Debian or Ubuntu machine (apt, cross toolchains, emulators); none was found on PATH.'
}

$env:CONFIGURATION = $Configuration
$env:CIRCLELOSS_CUDA = $Cuda
& $bash.Source (Join-Path $PSScriptRoot 'build.sh') $Task.ToLowerInvariant() @DemoArguments
exit $LASTEXITCODE
