#Requires -Version 7.4
<#
.SYNOPSIS
    Builds the CircleLoss module, copies it to a clean folder, and runs the Pester suite against it.

.DESCRIPTION
    1. dotnet build src/CircleLoss.PowerShell (incremental; lays out bin/<Configuration>/module/CircleLoss).
    2. Copies that layout to a fresh temporary folder, so the tests import the module as a user would:
       only the module's own files, nothing of the build tree beside them.
    3. Restores Pester (a NuGet package, see Pester.Restore.csproj) and imports it from the packages folder.
    4. Runs every *.Tests.ps1 here with a CI-like configuration, writes ONE line "passed failed skipped"
       to -SummaryFile, and exits 1 when a test, a block or a test file failed (0 otherwise).

.EXAMPLE
    dotnet pwsh -NoProfile -NonInteractive -File tests/CircleLoss.PowerShell.Tests/run.ps1 -Configuration Release -SummaryFile build/pester-summary.txt
#>
[CmdletBinding()]
param(
    [string] $Configuration = 'Release',
    # Receives one line: "passed failed skipped".
    [string] $SummaryFile,
    # Receives Pester's results as JUnit XML (what eng/test-summary.ps1 reads); default: pester-results.xml
    # beside -SummaryFile, or in build/.
    [string] $ResultFile,
    # Where the native library is taken from (default: the project's own default, build/lib).
    [string] $NativeDir,
    # Pester's output verbosity.
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Verbosity = 'Normal',
    # Run only the tests whose full name matches (Pester's -FullNameFilter, wildcards).
    [string[]] $FullNameFilter
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$moduleProject = Join-Path $root 'src/CircleLoss.PowerShell/CircleLoss.PowerShell.csproj'

function Write-Summary([int] $Passed, [int] $Failed, [int] $Skipped) {
    if ($SummaryFile) {
        $directory = Split-Path -Parent $SummaryFile
        if ($directory) { $null = New-Item -ItemType Directory -Force -Path $directory }
        Set-Content -LiteralPath $SummaryFile -Value "$Passed $Failed $Skipped" -Encoding utf8NoBOM
    }
}

function Stop-Run([string] $Message) {
    Write-Host "run.ps1: $Message" -ForegroundColor Red
    Write-Summary 0 1 0
    exit 1
}

$scratch = Join-Path ([System.IO.Path]::GetTempPath()) "circleloss-pester-$([guid]::NewGuid().ToString('N'))"
try {
    # ---- 1. The module, built. ----
    Write-Host "==> dotnet build $moduleProject ($Configuration)"
    $buildArguments = @('build', $moduleProject, '-c', $Configuration, '-nologo', '-v', 'q')
    if ($NativeDir) { $buildArguments += "-p:CircleLossNativeDir=$((Resolve-Path $NativeDir).Path)" }
    & dotnet @buildArguments
    if ($LASTEXITCODE -ne 0) { Stop-Run "the module did not build (dotnet build exit code $LASTEXITCODE)." }
    $layout = Join-Path $root "src/CircleLoss.PowerShell/bin/$Configuration/module/CircleLoss"
    if (-not (Test-Path -LiteralPath (Join-Path $layout 'CircleLoss.psd1'))) { Stop-Run "no module layout at $layout." }

    # ---- 2. A clean copy: what a user would have after Install-Module. ----
    $modules = Join-Path $scratch 'modules'
    $null = New-Item -ItemType Directory -Force -Path $modules
    Copy-Item -LiteralPath $layout -Destination (Join-Path $modules 'CircleLoss') -Recurse
    $modulePath = Join-Path $modules 'CircleLoss/CircleLoss.psd1'
    Write-Host "==> module copied to $(Split-Path $modulePath)"

    # ---- 3. Pester from NuGet. ----
    $restoreProject = Join-Path $PSScriptRoot 'Pester.Restore.csproj'
    & dotnet restore $restoreProject -nologo -v q
    if ($LASTEXITCODE -ne 0) { Stop-Run "restoring Pester failed (dotnet restore exit code $LASTEXITCODE)." }
    $assets = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'obj/project.assets.json') | ConvertFrom-Json -AsHashtable
    $pesterVersion = ([xml](Get-Content -Raw -LiteralPath $restoreProject)).Project.PropertyGroup.PesterVersion | Where-Object { $_ } | Select-Object -First 1
    $pesterManifest = $assets.packageFolders.Keys |
        ForEach-Object { Join-Path $_ "pester/$pesterVersion/tools/Pester.psd1" } |
        Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
    if (-not $pesterManifest) { Stop-Run "Pester $pesterVersion is not in the NuGet packages folders ($($assets.packageFolders.Keys -join ', '))." }
    Import-Module $pesterManifest -Force
    Write-Host "==> Pester $((Get-Module Pester).Version) from $(Split-Path $pesterManifest)"

    # ---- 4. The suite. ----
    $data = @{
        ModulePath = $modulePath
        GoldenDir  = Join-Path $root 'tests/data/golden'
        RepoRoot   = $root
    }
    $containers = Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.Tests.ps1' | Sort-Object Name |
        ForEach-Object { New-PesterContainer -Path $_.FullName -Data $data }
    $config = New-PesterConfiguration
    $config.Run.Container = $containers
    $config.Run.PassThru = $true
    $config.Run.Exit = $false
    $config.Output.Verbosity = $Verbosity
    $config.Output.CIFormat = 'None'
    $config.Should.ErrorAction = 'Stop'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'JUnitXml'
    # NUnit XML beside the summary file (build/ without one).
    $resultsDirectory = if ($SummaryFile) { Split-Path -Parent ([System.IO.Path]::GetFullPath($SummaryFile)) } else { Join-Path $root 'build' }
    $config.TestResult.OutputPath = if ($ResultFile) { [System.IO.Path]::GetFullPath($ResultFile) } else { Join-Path $resultsDirectory 'pester-results.xml' }
    if ($FullNameFilter) { $config.Filter.FullName = $FullNameFilter }
    $null = New-Item -ItemType Directory -Force -Path (Split-Path $config.TestResult.OutputPath.Value)

    $result = Invoke-Pester -Configuration $config

    # A test file that fails to load, or a failing BeforeAll, fails no test by itself: count it.
    $failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    if ($result.PassedCount -eq 0 -and $failed -eq 0) { Stop-Run 'no test ran.' }
    Write-Summary $result.PassedCount $failed $result.SkippedCount
    Write-Host "==> Pester: $($result.PassedCount) passed, $failed failed, $($result.SkippedCount) skipped"
    if ($failed -gt 0 -or $result.Result -ne 'Passed') { exit 1 }
    exit 0
}
catch {
    Stop-Run "$($_.Exception.Message)"
}
finally {
    Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction SilentlyContinue
}
