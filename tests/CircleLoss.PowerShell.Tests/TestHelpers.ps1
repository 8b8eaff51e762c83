# Helpers shared by the Pester suites (dot-sourced in their BeforeAll blocks).

# Tolerances, normwise (max |a - b| / max |expected|), as tests/data/golden/README.md gives them.
$script:Float64Tolerance = 1e-10
$script:Float32LossTolerance = 1e-5
$script:Float32GradientTolerance = 1e-4

function Read-GoldenCase([string] $Path) {
    Get-Content -Raw -LiteralPath $Path | ConvertFrom-Json
}

# The Measure-CircleLoss parameters of a golden case's options and optional inputs.
# -Rows: include -Label and -Embedding; -Gradient: -IncludeGradient (and -Upstream when the case has one).
function Get-CaseParameters($Case, [switch] $Rows, [switch] $Gradient) {
    $in = $Case.input
    $p = @{
        Gamma          = [double]$in.gamma
        Margin         = [double]$in.margin
        RemoveDiagonal = [bool]$in.remove_diagonal
        Reduction      = $in.reduction
        Backend        = 'Cpu'
    }
    if ($Rows) { $p.Label = $in.labels; $p.Embedding = $in.embeddings }
    if ($null -ne $in.ref_labels) { $p.ReferenceLabel = $in.ref_labels }
    if ($null -ne $in.ref_embeddings) { $p.ReferenceEmbedding = $in.ref_embeddings }
    if ($null -ne $in.sample_weight) { $p.SampleWeight = $in.sample_weight }
    if ($Gradient) {
        $p.IncludeGradient = $true
        if ($null -ne $in.upstream) { $p.Upstream = $in.upstream }
    }
    $p
}

# The golden case's rows as pipeline objects: Label, Embedding (and SampleWeight when the case has weights).
function ConvertTo-CaseRows($Case, [switch] $AsText) {
    $in = $Case.input
    for ($i = 0; $i -lt $in.labels.Count; $i++) {
        $row = [ordered]@{
            Label     = $in.labels[$i]
            Embedding = if ($AsText) { ($in.embeddings[$i] | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) }) -join ';' } else { $in.embeddings[$i] }
        }
        if ($null -ne $in.sample_weight) { $row.SampleWeight = $in.sample_weight[$i] }
        [pscustomobject]$row
    }
}

# All the numbers of a scalar, vector or matrix, flattened.
function Get-Flat($Value) {
    $list = [System.Collections.Generic.List[double]]::new()
    foreach ($item in @($Value)) {
        if ($item -is [System.Collections.IEnumerable] -and $item -isnot [string]) {
            foreach ($inner in $item) { $list.Add([double]$inner) }
        }
        else { $list.Add([double]$item) }
    }
    , $list.ToArray()
}

# Normwise relative difference: max |a - b| / max |expected| (absolute when the expected values are all 0).
function Get-NormwiseError($Actual, $Expected) {
    $a = Get-Flat $Actual
    $e = Get-Flat $Expected
    if ($a.Count -ne $e.Count) { throw "shape mismatch: $($a.Count) values, expected $($e.Count)" }
    $diff = 0.0; $scale = 0.0
    for ($i = 0; $i -lt $a.Count; $i++) {
        $diff = [math]::Max($diff, [math]::Abs($a[$i] - $e[$i]))
        $scale = [math]::Max($scale, [math]::Abs($e[$i]))
    }
    if ($scale -eq 0) { $diff } else { $diff / $scale }
}

function Assert-Close($Actual, $Expected, [double] $Tolerance, [string] $What) {
    $err = Get-NormwiseError $Actual $Expected
    if (-not ($err -le $Tolerance)) { throw "$What differs from the golden value: normwise error $err > $Tolerance" }
}

# The command line of a fresh pwsh like this one (pwsh itself, or dotnet + pwsh.dll for the dotnet tool).
function Get-PwshCommand {
    $process = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { , @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    else { , @($process) }
}

# Runs a script in a new pwsh (-NoProfile -NonInteractive); returns @{ ExitCode; Output; Errors }.
# -Environment: variables to set (a $null value removes one) for that process only.
function Invoke-FreshPwsh([string] $Script, [hashtable] $Environment = @{}) {
    $command = Get-PwshCommand
    $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Script))
    $info = [System.Diagnostics.ProcessStartInfo]::new($command[0])
    foreach ($argument in @($command | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)) {
        $info.ArgumentList.Add($argument)
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $info.Environment['NO_COLOR'] = '1'
    foreach ($name in $Environment.Keys) {
        if ($null -eq $Environment[$name]) { $null = $info.Environment.Remove($name) } else { $info.Environment[$name] = $Environment[$name] }
    }
    $process = [System.Diagnostics.Process]::Start($info)
    $stderr = $process.StandardError.ReadToEndAsync()
    $stdout = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    @{ ExitCode = $process.ExitCode; Output = $stdout; Errors = $stderr.Result }
}
