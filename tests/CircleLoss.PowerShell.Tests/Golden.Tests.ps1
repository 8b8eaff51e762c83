#Requires -Version 7.4
# Every golden case (tests/data/golden: float64 results of an independent implementation) through
# Measure-CircleLoss: as arrays and through the pipeline, both gradient modes, both precisions.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $GoldenDir,
    [Parameter(Mandatory)] [string] $RepoRoot
)

BeforeDiscovery {
    $cases = @(Get-ChildItem -LiteralPath $GoldenDir -Filter '*.json' | Sort-Object Name |
            ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } })
    if ($cases.Count -eq 0) { throw "no golden case in $GoldenDir" }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModulePath -Force
}

Describe 'Golden case <Name>' -ForEach $cases {
    BeforeAll {
        $case = Read-GoldenCase $Path
        $isNone = $case.input.reduction -eq 'none'
        $hasReferenceGradient = $null -ne $case.input.ref_embeddings
    }

    It 'float64, Keras gradient: loss, per-sample losses, mask and gradients' {
        $p = Get-CaseParameters $case -Rows -Gradient
        $r = Measure-CircleLoss @p -WarningAction SilentlyContinue
        $e = $case.expected.keras
        if ($isNone) { $r.Loss | Should -BeOfType [double]; @($r.Loss).Count | Should -Be $case.input.labels.Count }
        else { $r.Loss | Should -BeOfType [double]; $r.Loss -is [array] | Should -BeFalse }
        Assert-Close $r.Loss $e.loss $Float64Tolerance 'loss'
        Assert-Close $r.PerSampleLoss $e.per_sample_loss $Float64Tolerance 'per_sample_loss'
        @($r.Mask | ForEach-Object { [int]$_ }) | Should -Be @($e.mask)
        $r.ValidCount | Should -Be ($e.mask | Measure-Object -Sum).Sum
        Assert-Close $r.Gradient $e.grad_embeddings $Float64Tolerance 'grad_embeddings'
        if ($hasReferenceGradient) { Assert-Close $r.ReferenceGradient $e.grad_ref_embeddings $Float64Tolerance 'grad_ref_embeddings' }
        else { $r.ReferenceGradient | Should -BeNullOrEmpty }
        $r.Count | Should -Be $case.input.labels.Count
        $r.Dimension | Should -Be @($case.input.embeddings[0]).Count
        "$($r.Backend)" | Should -Be 'Cpu'
        "$($r.Precision)" | Should -Be 'Double'
    }

    It 'float64, Paper gradient: the same forward, the paper''s gradients' {
        $p = Get-CaseParameters $case -Rows -Gradient
        $r = Measure-CircleLoss @p -GradientMode Paper -WarningAction SilentlyContinue
        $e = $case.expected.paper
        Assert-Close $r.Loss $e.loss $Float64Tolerance 'loss'
        Assert-Close $r.Gradient $e.grad_embeddings $Float64Tolerance 'grad_embeddings'
        if ($hasReferenceGradient) { Assert-Close $r.ReferenceGradient $e.grad_ref_embeddings $Float64Tolerance 'grad_ref_embeddings' }
    }

    It 'float32 (-Precision Single): loss within 1e-5 and gradients within 1e-4' {
        $p = Get-CaseParameters $case -Rows -Gradient
        $r = Measure-CircleLoss @p -Precision Single -WarningAction SilentlyContinue
        $e = $case.expected.keras
        "$($r.Precision)" | Should -Be 'Single'
        Assert-Close $r.Loss $e.loss $Float32LossTolerance 'loss'
        Assert-Close $r.PerSampleLoss $e.per_sample_loss $Float32LossTolerance 'per_sample_loss'
        Assert-Close $r.Gradient $e.grad_embeddings $Float32GradientTolerance 'grad_embeddings'
        if ($hasReferenceGradient) { Assert-Close $r.ReferenceGradient $e.grad_ref_embeddings $Float32GradientTolerance 'grad_ref_embeddings' }
    }

    It 'without -IncludeGradient: the loss and no gradients' {
        $p = Get-CaseParameters $case -Rows
        $r = Measure-CircleLoss @p -WarningAction SilentlyContinue
        Assert-Close $r.Loss $case.expected.keras.loss $Float64Tolerance 'loss'
        $r.Gradient | Should -BeNullOrEmpty
        $r.ReferenceGradient | Should -BeNullOrEmpty
    }

    It 'through the pipeline: objects with Label, Embedding (and SampleWeight)' {
        $p = Get-CaseParameters $case -Gradient
        $p.Remove('SampleWeight')   # carried by the objects instead
        $r = ConvertTo-CaseRows $case | Measure-CircleLoss @p -WarningAction SilentlyContinue
        @($r).Count | Should -Be 1
        $e = $case.expected.keras
        Assert-Close $r.Loss $e.loss $Float64Tolerance 'loss'
        Assert-Close $r.PerSampleLoss $e.per_sample_loss $Float64Tolerance 'per_sample_loss'
        Assert-Close $r.Gradient $e.grad_embeddings $Float64Tolerance 'grad_embeddings'
    }

    It 'warns exactly when some rows are not unit-norm' {
        $offNorm = @($case.input.embeddings | Where-Object {
                $sum = 0.0; foreach ($v in $_) { $sum += $v * $v }
                [math]::Abs([math]::Sqrt($sum) - 1) -gt 1e-3
            }).Count
        $p = Get-CaseParameters $case -Rows
        $p.Remove('ReferenceEmbedding')
        $p.Remove('ReferenceLabel')
        $warnings = $null
        $null = Measure-CircleLoss @p -WarningVariable warnings -WarningAction SilentlyContinue
        if ($offNorm -gt 0) {
            @($warnings).Count | Should -Be 1
            "$($warnings[0])" | Should -BeLike "$offNorm of $($case.input.labels.Count) rows of -Embedding are not unit-norm*ConvertTo-UnitEmbedding*"
        }
        else { $warnings | Should -BeNullOrEmpty }
    }
}

Describe 'Other input forms' {
    BeforeAll {
        $case = Read-GoldenCase (Join-Path $GoldenDir '06_self_n24_d6_sw_sum.json')
        $p = Get-CaseParameters $case
        $p.Remove('SampleWeight')
    }

    It 'Import-Csv rows whose Embedding is a string of numbers' {
        $csv = Join-Path $TestDrive 'rows.csv'
        ConvertTo-CaseRows $case -AsText | Export-Csv -LiteralPath $csv -NoTypeInformation
        $r = Import-Csv -LiteralPath $csv | Measure-CircleLoss @p
        Assert-Close $r.Loss $case.expected.keras.loss $Float64Tolerance 'loss'
    }

    It 'JSON rows read back with ConvertFrom-Json' {
        $json = ConvertTo-CaseRows $case | ConvertTo-Json -Depth 4
        $r = $json | ConvertFrom-Json | ForEach-Object { $_ } | Measure-CircleLoss @p
        Assert-Close $r.Loss $case.expected.keras.loss $Float64Tolerance 'loss'
    }

    It 'hashtables with Label, Embedding and SampleWeight keys' {
        $rows = ConvertTo-CaseRows $case | ForEach-Object { @{ label = $_.Label; embedding = $_.Embedding; sampleweight = $_.SampleWeight } }
        $r = $rows | Measure-CircleLoss @p
        Assert-Close $r.Loss $case.expected.keras.loss $Float64Tolerance 'loss'
    }

    It 'a 2-D array for -Embedding and Keras''s reduction names' {
        $x = $case.input.embeddings
        $matrix = [double[,]]::new($x.Count, $x[0].Count)
        for ($i = 0; $i -lt $x.Count; $i++) { for ($j = 0; $j -lt $x[0].Count; $j++) { $matrix[$i, $j] = $x[$i][$j] } }
        $r = Measure-CircleLoss -Label $case.input.labels -Embedding $matrix -SampleWeight $case.input.sample_weight -Reduction 'sum' -Backend Cpu
        Assert-Close $r.Loss $case.expected.keras.loss $Float64Tolerance 'loss'
    }

    It 'labels given as strings, as a CSV holds them' {
        $r = Measure-CircleLoss -Label ([string[]]$case.input.labels) -Embedding $case.input.embeddings -SampleWeight $case.input.sample_weight -Reduction Sum
        Assert-Close $r.Loss $case.expected.keras.loss $Float64Tolerance 'loss'
    }

    It 'the default backend (Auto) gives the golden loss' {
        $c = Read-GoldenCase (Join-Path $GoldenDir '01_self_n8_d4.json')
        $r = Measure-CircleLoss -Label $c.input.labels -Embedding $c.input.embeddings
        Assert-Close $r.Loss $c.expected.keras.loss 1e-8 'loss'
    }
}
