#Requires -Version 7.4
# ConvertTo-UnitEmbedding: unit norms, same directions, every input form, and what Measure-CircleLoss makes of it.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $GoldenDir,
    [Parameter(Mandatory)] [string] $RepoRoot
)

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModulePath -Force

    function Get-Norm($Row) { $s = 0.0; foreach ($v in $Row) { $s += [double]$v * [double]$v }; [math]::Sqrt($s) }
}

Describe 'ConvertTo-UnitEmbedding' {
    It 'divides each row by its L2 norm, as one matrix' {
        $unit = ConvertTo-UnitEmbedding -Embedding @(@(3, 4), @(0, -2), @(1e-3, 1e-3))
        , $unit | Should -BeOfType [double[][]]
        $unit.Count | Should -Be 3
        $unit[0] | Should -Be @(0.6, 0.8)
        $unit[1] | Should -Be @(0.0, -1.0)
        (Get-Norm $unit[2]) | Should -BeGreaterThan (1 - 1e-15)
        (Get-Norm $unit[2]) | Should -BeLessThan (1 + 1e-15)
        $unit[2][0] | Should -Be $unit[2][1]
    }

    It 'keeps a single-row matrix a matrix' {
        $unit = ConvertTo-UnitEmbedding -Embedding @(, @(0.0, 5.0))
        , $unit | Should -BeOfType [double[][]]
        $unit.Count | Should -Be 1
        $unit[0] | Should -Be @(0.0, 1.0)
    }

    It 'neither overflows nor underflows on huge or tiny rows' {
        $unit = ConvertTo-UnitEmbedding -Embedding @(@(3e300, 4e300), @(3e-300, 4e-300))
        $unit[0] | Should -Be @(0.6, 0.8)
        $unit[1][0] | Should -BeGreaterThan 0.5999999999
        $unit[1][1] | Should -BeLessThan 0.8000000001
    }

    It 'leaves a row of zeros as zeros, with a warning' {
        $warnings = $null
        $unit = ConvertTo-UnitEmbedding -Embedding @(@(1.0, 1.0), @(0.0, 0.0)) -WarningVariable warnings -WarningAction SilentlyContinue
        $unit[1] | Should -Be @(0.0, 0.0)
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike '*-Embedding row 1 is all zeros*'
    }

    It 'normalises piped rows one by one' {
        $rows = @(@(3.0, 4.0), @(0.0, 2.0)) | ConvertTo-UnitEmbedding
        $rows.Count | Should -Be 2
        , $rows[0] | Should -BeOfType [double[]]
        $rows[0] | Should -Be @(0.6, 0.8)
        $rows[1] | Should -Be @(0.0, 1.0)
    }

    It 'normalises the Embedding of piped objects and keeps their other properties' {
        $out = @([pscustomobject]@{ Label = 7; Embedding = '3;4'; Id = 'a' }) | ConvertTo-UnitEmbedding
        $out.Label | Should -Be 7
        $out.Id | Should -Be 'a'
        $out.Embedding | Should -Be @(0.6, 0.8)
        $table = @{ label = 1; embedding = @(0, 3) } | ConvertTo-UnitEmbedding
        $table.label | Should -Be 1
        $table.embedding | Should -Be @(0.0, 1.0)
    }

    It 'does not change its input objects' {
        $row = [pscustomobject]@{ Label = 1; Embedding = @(3.0, 4.0) }
        $null = $row | ConvertTo-UnitEmbedding
        $row.Embedding | Should -Be @(3.0, 4.0)
    }

    It 'makes the norm-0.9 golden cases unit-norm: no warning, and the loss of the rescaled rows' {
        $case = Read-GoldenCase (Join-Path $GoldenDir '09b_keepdiag_self_n20_d6_norm09.json')
        $unit = ConvertTo-UnitEmbedding -Embedding $case.input.embeddings
        foreach ($row in $unit) { [math]::Abs((Get-Norm $row) - 1) | Should -BeLessThan 1e-12 }
        $warnings = $null
        $p = Get-CaseParameters $case
        $r = Measure-CircleLoss -Label $case.input.labels -Embedding $unit @p -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        # The same rows scaled back to norm 0.9 give the golden loss again: normalising changed only the norms.
        $back = $unit | ForEach-Object { , @($_ | ForEach-Object { 0.9 * $_ }) }
        $again = Measure-CircleLoss -Label $case.input.labels -Embedding $back @p -WarningAction SilentlyContinue
        Assert-Close $again.Loss $case.expected.keras.loss 1e-9 'loss'
        $r.Loss | Should -Not -Be $again.Loss
    }
}
