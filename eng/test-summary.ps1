#Requires -Version 7.4
<#
.SYNOPSIS
    Adds up the machine-readable results of every suite and prints the per-suite table and the summary line.

.DESCRIPTION
    Reads every file in -ResultsDir: JUnit XML (ctest's --output-junit, Pester's JUnitXml, the script suites'
    eng/results.sh) and xunit's trx. A suite is named by its file (ctest.xml → ctest; the trx files together
    are xunit). Prints one line per suite and last "N passed, N failed, N skipped". Exits 1 when a suite
    failed, when -Expected names a suite without a result, or when there are no results at all.

.EXAMPLE
    dotnet pwsh -NoProfile -File eng/test-summary.ps1 -ResultsDir build/test-results -Expected ctest,xunit,pester
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ResultsDir,
    # Suites that must have a result, comma-separated (a runner that crashed before writing one counts as a failure).
    [string] $Expected = ''
)

$suites = [ordered]@{}
function Add-Counts([string] $Suite, [int] $Passed, [int] $Failed, [int] $Skipped) {
    if (-not $suites.Contains($Suite)) { $suites[$Suite] = [int[]]@(0, 0, 0) }
    $counts = $suites[$Suite]
    $counts[0] += $Passed; $counts[1] += $Failed; $counts[2] += $Skipped
}

$files = if (Test-Path $ResultsDir) { Get-ChildItem -Path $ResultsDir -File -Recurse | Sort-Object FullName } else { @() }
foreach ($file in $files) {
    switch ($file.Extension) {
        '.trx' {
            [xml] $trx = Get-Content -Raw $file.FullName
            $c = $trx.TestRun.ResultSummary.Counters
            $total = [int]$c.total; $passed = [int]$c.passed; $failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
            Add-Counts 'xunit' $passed $failed ($total - $passed - $failed)
        }
        '.xml' {
            [xml] $junit = Get-Content -Raw $file.FullName
            # A testsuites root (ctest, Pester) or a single testsuite (eng/results.sh).
            $nodes = if ($junit.DocumentElement.LocalName -eq 'testsuites') { $junit.DocumentElement.SelectNodes('testsuite') } else { @($junit.DocumentElement) }
            foreach ($s in $nodes) {
                $tests = [int]$s.tests; $failed = [int]$s.failures + [int]$s.errors
                $skipped = [int]("0$($s.skipped)") + [int]("0$($s.disabled)")
                Add-Counts $file.BaseName ($tests - $failed - $skipped) $failed $skipped
            }
        }
    }
}

$status = 0
foreach ($name in ($Expected -split ',' | Where-Object { $_ })) {
    if (-not $suites.Contains($name)) {
        Write-Host "  ${name}: no result (the runner ended before writing one)"
        Add-Counts $name 0 1 0
    }
}
if ($suites.Count -eq 0) { Write-Host '  no test results'; $status = 1 }

$total = [int[]]@(0, 0, 0)
foreach ($entry in $suites.GetEnumerator()) {
    $c = $entry.Value
    '  {0,-12} {1,5} passed, {2} failed, {3} skipped' -f $entry.Key, $c[0], $c[1], $c[2] | Write-Host
    for ($i = 0; $i -lt 3; $i++) { $total[$i] += $c[$i] }
}
Write-Host ('{0} passed, {1} failed, {2} skipped' -f $total[0], $total[1], $total[2])
if ($total[1] -gt 0) { $status = 1 }
exit $status
