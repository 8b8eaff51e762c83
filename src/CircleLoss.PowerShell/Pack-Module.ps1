#Requires -Version 7.4
<#
.SYNOPSIS
    Packs a laid-out CircleLoss module folder into a .nupkg and checks that it installs and works.

.DESCRIPTION
    Validates the manifest (Test-ModuleManifest), packs the folder with Compress-PSResource (the package a
    gallery would serve: the module's files at the package root, the manifest's metadata in the nuspec),
    then, in a child pwsh whose module path and PSResourceGet store are empty temporary folders, registers
    the destination as a local repository, installs CircleLoss from it, imports it and checks that golden
    case 01 gives its expected loss. Fails (exit code 1) when any step does.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleFolder,
    [Parameter(Mandatory)] [string] $Destination,
    [string] $GoldenCase
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ModuleFolder = (Resolve-Path -LiteralPath $ModuleFolder).Path
$Destination = (Resolve-Path -LiteralPath $Destination).Path
$manifest = Test-ModuleManifest -Path (Join-Path $ModuleFolder 'CircleLoss.psd1')
Compress-PSResource -Path $ModuleFolder -DestinationPath $Destination
$package = Join-Path $Destination "CircleLoss.$($manifest.Version).nupkg"
if (-not (Test-Path -LiteralPath $package)) { throw "Compress-PSResource did not write $package." }
Write-Host "packed $package"

if (-not $GoldenCase) { return }

# A user's first install: nothing of this machine's PowerShell configuration is read or changed.
$scratch = Join-Path ([System.IO.Path]::GetTempPath()) "circleloss-module-check-$([guid]::NewGuid().ToString('N'))"
# .NET answers "" for a special folder that does not exist yet (and PSResourceGet then writes its store under
# the current folder): create them first.
foreach ($folder in '.local/share', '.config', '.cache') { $null = New-Item -ItemType Directory -Force -Path (Join-Path $scratch $folder) }
try {
    $check = {
        param($Repository, $Case)
        $ErrorActionPreference = 'Stop'
        Register-PSResourceRepository -Name CircleLossLocal -Uri $Repository -Trusted
        Install-PSResource -Name CircleLoss -Repository CircleLossLocal -Scope CurrentUser -TrustRepository -Quiet
        Import-Module CircleLoss
        $case = Get-Content -Raw -LiteralPath $Case | ConvertFrom-Json
        $r = Measure-CircleLoss -Label $case.input.labels -Embedding $case.input.embeddings -Gamma $case.input.gamma `
            -Margin $case.input.margin -Reduction $case.input.reduction -RemoveDiagonal $case.input.remove_diagonal
        $relative = [math]::Abs($r.Loss - $case.expected.keras.loss) / [math]::Abs($case.expected.keras.loss)
        "installed CircleLoss $((Get-Module CircleLoss).Version) from $((Get-Module CircleLoss).ModuleBase)"
        "loss $($r.Loss) (expected $($case.expected.keras.loss), relative error $relative)"
        if ($relative -gt 1e-10) { throw "the installed module's loss is off by $relative" }
    }
    $pwsh = [Environment]::ProcessPath
    $arguments = @()
    if ([System.IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $arguments += Join-Path $PSHOME 'pwsh.dll' }
    $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes(
            "& { $check } -Repository '$($Destination -replace "'", "''")' -Case '$((Resolve-Path $GoldenCase).Path -replace "'", "''")'"))
    # PSResourceGet installs under $HOME/.local/share and pwsh looks under $XDG_DATA_HOME: make them one folder.
    $environment = @{ HOME = $scratch; XDG_DATA_HOME = "$scratch/.local/share"; XDG_CONFIG_HOME = "$scratch/.config"; XDG_CACHE_HOME = "$scratch/.cache"; PSModulePath = '' }
    $saved = @{}
    foreach ($name in $environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $environment[$name]) }
    try {
        Push-Location -LiteralPath $scratch
        & $pwsh @arguments -NoProfile -NonInteractive -OutputFormat Text -EncodedCommand $encoded
        $code = $LASTEXITCODE
    }
    finally {
        Pop-Location
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
    if ($code -ne 0) { throw "installing and using the packed module failed (exit code $code)." }
}
finally {
    Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction SilentlyContinue
}
