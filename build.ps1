#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The PowerShell twin of build.sh: the same tasks, the same steps, the same summary line.
.DESCRIPTION
    Deps      install what the build needs (Debian packages, the cross compilers and emulators of
              eng/cross/deps.sh, .NET local tools)
    Native    configure and build the native library and its tests (CMake, Release)
    Bindings  regenerate the P/Invoke bindings from the C header and fail on any difference
    Build     Native + Bindings + the .NET solution
    Test      Build, then every test suite (ctest, xunit, Pester, cross: linux-arm64 and win-x64 under qemu-aarch64
              and wine, packaging, reliability: fuzz, sanitizers, valgrind); prints "N passed, N failed, N skipped".
              CIRCLELOSS_QUICK=1 skips reliability and the emulated native tests.
    Pack      the NuGet packages (runtime packages for linux-x64, linux-arm64, win-x64) and the PowerShell module
              into artifacts/
    Demo      the main job: `circleloss demo`
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
$Root = $PSScriptRoot
$BuildDir = if ($env:BUILD_DIR) { $env:BUILD_DIR } else { Join-Path $Root 'build' }
$Summary = Join-Path $BuildDir 'test-summary.txt'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
Set-Location $Root

function Write-Step([string] $Message) { Write-Host "`n==> $Message" }

# Runs a native command and fails the task when it fails.
function Invoke-Checked([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

$AptPackages = @('cmake', 'g++', 'make', 'libopenblas-pthread-dev', 'libgtest-dev', 'fonts-dejavu-core',
    'clang-14', 'libclang-rt-14-dev', 'valgrind')

# apt-get as root, or through sudo otherwise.
function Invoke-Apt([string[]] $Arguments) {
    if ((& id -u) -eq '0') { Invoke-Checked 'apt-get' $Arguments }
    else { Invoke-Checked 'sudo' (@('apt-get') + $Arguments) }
}

function Invoke-Deps {
    $missing = @($AptPackages | Where-Object {
            $status = & dpkg-query -W -f='${Status}' $_ 2>$null
            $status -notmatch 'install ok installed'
        })
    if ($missing.Count -gt 0) {
        Write-Step "installing Debian packages: $($missing -join ' ')"
        $env:DEBIAN_FRONTEND = 'noninteractive'
        Invoke-Apt @('update', '-qq')
        Invoke-Apt (@('install', '-y', '-qq', '--no-install-recommends') + $missing)
    }
    Invoke-Checked 'bash' @((Join-Path $Root 'eng/cross/deps.sh'))
    if (Test-Path (Join-Path $Root '.config/dotnet-tools.json')) { Invoke-Checked 'dotnet' @('tool', 'restore') }
}

function Invoke-Native {
    Invoke-Deps
    Write-Step "native build ($Configuration, CUDA=$Cuda)"
    Invoke-Checked 'cmake' @('-S', '.', '-B', $BuildDir, "-DCMAKE_BUILD_TYPE=$Configuration", "-DCIRCLELOSS_CUDA=$Cuda")
    Invoke-Checked 'cmake' @('--build', $BuildDir, "-j$([Environment]::ProcessorCount)")
}

function Invoke-Bindings {
    if (Test-Path (Join-Path $Root 'bindings/check.sh')) {
        Write-Step 'bindings: regenerate from the header and compare'
        Invoke-Checked 'bash' @((Join-Path $Root 'bindings/check.sh'))
    }
}

function Invoke-Build {
    Invoke-Native
    Invoke-Bindings
    Write-Step 'managed build'
    Invoke-Checked 'dotnet' @('build', 'CircleLoss.Interop.sln', '-c', $Configuration, '-warnaserror', '-nologo', '-v', 'q')
}

function Add-SummaryLine([string] $Suite, [int] $Passed, [int] $Failed, [int] $Skipped) {
    Add-Content -Path $Summary -Value "$Suite $Passed $Failed $Skipped"
}

function Invoke-CTest {
    Write-Step 'native tests (ctest)'
    Push-Location $BuildDir
    try { $out = & ctest "-j$([Environment]::ProcessorCount)" --output-on-failure 2>&1 | Out-String; $rc = $LASTEXITCODE }
    finally { Pop-Location }
    $out -split "`n" | Where-Object { $_ -notmatch '^\s+(Start|\d+/\d+ Test)' } | Write-Host
    if ($out -match 'tests passed, (\d+) tests failed out of (\d+)') {
        $failedCount = [int]$Matches[1]; $totalCount = [int]$Matches[2]
        $skippedCount = ([regex]::Matches($out, '(?m)^\s+\d+ - .* \(Skipped\)\s*$')).Count
        Add-SummaryLine 'ctest' ($totalCount - $failedCount - $skippedCount) $failedCount $skippedCount
    } else { Add-SummaryLine 'ctest' 0 1 0; return $false }
    return ($rc -eq 0)
}

function Invoke-DotnetTests {
    Write-Step 'managed tests (xunit)'
    $trxDir = Join-Path $BuildDir 'test-results'
    if (Test-Path $trxDir) { Remove-Item -Recurse -Force $trxDir }
    & dotnet test CircleLoss.Interop.sln -c $Configuration --no-build -nologo --logger 'trx;LogFilePrefix=xunit' --results-directory $trxDir -v q
    $rc = $LASTEXITCODE
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($trx in Get-ChildItem -Path $trxDir -Filter '*.trx' -ErrorAction SilentlyContinue) {
        $counters = ([xml](Get-Content -Raw $trx.FullName)).TestRun.ResultSummary.Counters
        $passed += [int]$counters.passed; $failed += [int]$counters.failed
        $skipped += [int]$counters.total - [int]$counters.passed - [int]$counters.failed  # skipped: in total only
    }
    if ($rc -ne 0 -and $failed -eq 0) { $failed = 1 }
    Add-SummaryLine 'xunit' $passed $failed $skipped
    return ($rc -eq 0)
}

function Invoke-PesterSuite {
    $runner = Join-Path $Root 'tests/CircleLoss.PowerShell.Tests/run.ps1'
    if (-not (Test-Path $runner)) { return $true }
    Write-Step 'PowerShell tests (Pester)'
    $file = Join-Path $BuildDir 'pester-summary.txt'
    & dotnet pwsh -NoProfile -NonInteractive -File $runner -Configuration $Configuration -SummaryFile $file
    $rc = $LASTEXITCODE
    if (Test-Path $file) {
        $p, $f, $s = (Get-Content $file -Raw).Trim() -split '\s+'
        Add-SummaryLine 'pester' ([int]$p) ([int]$f) ([int]$s)
    } else { Add-SummaryLine 'pester' 0 1 0 }
    return ($rc -eq 0)
}

function Invoke-Cross {
    Write-Step 'cross (linux-arm64 under qemu-aarch64, win-x64 under wine)'
    $env:BUILD_DIR = $BuildDir
    $env:CONFIGURATION = $Configuration
    $out = & bash (Join-Path $Root 'eng/cross/check.sh') 2>&1 | Out-String
    $rc = $LASTEXITCODE
    Write-Host $out
    if ($out -match '(?m)^cross: (\d+) passed, (\d+) failed, (\d+) skipped') {
        Add-SummaryLine 'cross' ([int]$Matches[1]) ([int]$Matches[2]) ([int]$Matches[3])
    } else { Add-SummaryLine 'cross' 0 1 0; return $false }
    return ($rc -eq 0)
}

function Invoke-Packaging {
    Write-Step 'packaging (pack, native dependencies, consumer sample, TorchSharp sample)'
    $env:BUILD_DIR = $BuildDir
    $out = & bash (Join-Path $Root 'eng/packaging-check.sh') $Configuration 2>&1 | Out-String
    $rc = $LASTEXITCODE
    Write-Host $out
    if ($out -match '(?m)^packaging: (\d+) passed, (\d+) failed') {
        Add-SummaryLine 'packaging' ([int]$Matches[1]) ([int]$Matches[2]) 0
    } else { Add-SummaryLine 'packaging' 0 1 0; return $false }
    return ($rc -eq 0)
}

function Invoke-Reliability {
    if ($env:CIRCLELOSS_QUICK -eq '1') { Write-Step 'reliability checks skipped (CIRCLELOSS_QUICK=1)'; return $true }
    Write-Step 'reliability (fuzz, sanitizers, valgrind)'
    $env:BUILD_DIR = $BuildDir
    $out = & bash (Join-Path $Root 'native/tools/reliability-ci.sh') 2>&1 | Out-String
    $rc = $LASTEXITCODE
    Write-Host $out
    if ($out -match '(?m)^reliability: (\d+) passed, (\d+) failed') {
        Add-SummaryLine 'reliability' ([int]$Matches[1]) ([int]$Matches[2]) 0
    } else { Add-SummaryLine 'reliability' 0 1 0; return $false }
    return ($rc -eq 0)
}

function Invoke-Test {
    Invoke-Build
    New-Item -ItemType Directory -Force -Path $BuildDir | Out-Null
    Set-Content -Path $Summary -Value $null
    $ok = Invoke-CTest
    $ok = (Invoke-DotnetTests) -and $ok
    $ok = (Invoke-PesterSuite) -and $ok
    $ok = (Invoke-Cross) -and $ok
    $ok = (Invoke-Packaging) -and $ok
    $ok = (Invoke-Reliability) -and $ok
    Write-Step 'summary'
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($line in Get-Content $Summary | Where-Object { $_ }) {
        $suite, $p, $f, $s = $line -split '\s+'
        Write-Host ('  {0,-8} {1,5} passed, {2} failed, {3} skipped' -f $suite, $p, $f, $s)
        $passed += [int]$p; $failed += [int]$f; $skipped += [int]$s
    }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if (-not $ok -or $failed -gt 0) { exit 1 }
}

function Invoke-Pack {
    Invoke-Build
    $env:BUILD_DIR = $BuildDir
    $env:CONFIGURATION = $Configuration
    Invoke-Checked 'bash' @((Join-Path $Root 'eng/cross/build.sh'))
    Invoke-Checked 'bash' @((Join-Path $Root 'eng/pack.sh'), $Configuration)
}

function Invoke-Demo {
    Invoke-Build
    Write-Step 'circleloss demo'
    Invoke-Checked 'dotnet' (@('run', '--project', 'src/CircleLoss.Cli', '-c', $Configuration, '--no-build', '--', 'demo') + $DemoArguments)
}

switch ($Task) {
    'Deps' { Invoke-Deps }
    'Native' { Invoke-Native }
    'Bindings' { Invoke-Bindings }
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Pack' { Invoke-Pack }
    'Demo' { Invoke-Demo }
}
