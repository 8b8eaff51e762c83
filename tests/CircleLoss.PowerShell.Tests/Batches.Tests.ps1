#Requires -Version 7.4
# -BatchSize (each batch is its own Keras call), progress through Write-Progress, and verbose output.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $GoldenDir,
    [Parameter(Mandatory)] [string] $RepoRoot
)

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModulePath -Force

    # Runs Measure-CircleLoss in a runspace of its own and returns its output and its progress records.
    function Invoke-WithProgress([hashtable] $Parameters, [object[]] $PipelineInput) {
        $state = [initialsessionstate]::CreateDefault2()
        $state.ImportPSModule([string[]]@($ModulePath))
        $ps = [powershell]::Create($state)
        try {
            $null = $ps.AddCommand('Measure-CircleLoss').AddParameters($Parameters)
            $output = if ($PipelineInput) { $ps.Invoke($PipelineInput) } else { $ps.Invoke() }
            if ($ps.Streams.Error.Count) { throw $ps.Streams.Error[0] }
            @{ Output = @($output); Progress = @($ps.Streams.Progress) }
        }
        finally { $ps.Dispose() }
    }

    function Get-Slice($Array, [int] $Start, [int] $Count) { , @($Array[$Start..($Start + $Count - 1)]) }
}

Describe '-BatchSize' {
    It 'measures each batch as its own call on its slice of rows' {
        $case = Read-GoldenCase (Join-Path $GoldenDir '05_self_n40_d16_sum.json')
        $p = Get-CaseParameters $case -Rows -Gradient
        $batches = @(Measure-CircleLoss @p -BatchSize 16)
        $batches.Count | Should -Be 3
        $batches.BatchIndex | Should -Be @(0, 1, 2)
        $batches.FirstRow | Should -Be @(0, 16, 32)
        $batches.Count | Should -Be 3
        @($batches | ForEach-Object Count) | Should -Be @(16, 16, 8)
        foreach ($b in $batches) {
            $alone = Measure-CircleLoss -Label (Get-Slice $case.input.labels $b.FirstRow $b.Count) `
                -Embedding (Get-Slice $case.input.embeddings $b.FirstRow $b.Count) -Reduction Sum -Backend Cpu -IncludeGradient
            $b.Loss | Should -Be $alone.Loss
            Assert-Close $b.Gradient $alone.Gradient 0 'gradient'
        }
    }

    It 'gives the golden result when one batch holds every row' {
        $case = Read-GoldenCase (Join-Path $GoldenDir '05_self_n40_d16_mean.json')
        $p = Get-CaseParameters $case -Rows -Gradient
        $r = @(Measure-CircleLoss @p -BatchSize 64)
        $r.Count | Should -Be 1
        Assert-Close $r[0].Loss $case.expected.keras.loss $Float64Tolerance 'loss'
        Assert-Close $r[0].Gradient $case.expected.keras.grad_embeddings $Float64Tolerance 'grad_embeddings'
    }

    It 'shares an explicit reference set: the per-row losses of the batches are the golden ones' {
        # remove_diagonal is false here: with it, the diagonal is positional within each call.
        $case = Read-GoldenCase (Join-Path $GoldenDir '08e_refs_n16_m10_keepdiag.json')
        $p = Get-CaseParameters $case -Rows
        $p.Reduction = 'None'
        $batches = @(Measure-CircleLoss @p -BatchSize 5)
        $batches.Count | Should -Be 4
        @($batches | ForEach-Object ReferenceCount | Sort-Object -Unique) | Should -Be @(10)
        $perRow = @($batches | ForEach-Object { $_.PerSampleLoss })
        Assert-Close $perRow $case.expected.keras.per_sample_loss $Float64Tolerance 'per_sample_loss'
    }

    It 'splits sample weights and upstream values of reduction None with the rows' {
        $case = Read-GoldenCase (Join-Path $GoldenDir '06_self_n24_d6_sw_none.json')
        $p = Get-CaseParameters $case -Rows -Gradient
        $p.Upstream = 1..24 | ForEach-Object { $_ / 10 }
        $batches = @(Measure-CircleLoss @p -BatchSize 10)
        $batches.Count | Should -Be 3
        $b = $batches[1]
        $alone = Measure-CircleLoss -Label (Get-Slice $case.input.labels 10 10) -Embedding (Get-Slice $case.input.embeddings 10 10) `
            -SampleWeight (Get-Slice $case.input.sample_weight 10 10) -Reduction None -Backend Cpu -IncludeGradient -Upstream (Get-Slice $p.Upstream 10 10)
        Assert-Close $b.Loss $alone.Loss 0 'loss'
        Assert-Close $b.Gradient $alone.Gradient 0 'gradient'
    }
}

Describe 'Progress' {
    BeforeAll {
        $case = Read-GoldenCase (Join-Path $GoldenDir '05_self_n40_d16_sum.json')
        $p = Get-CaseParameters $case -Rows
    }

    It 'reports each batch through Write-Progress, then completes' {
        $run = Invoke-WithProgress ($p + @{ BatchSize = 10 })
        $run.Output.Count | Should -Be 4
        $records = $run.Progress | Where-Object Activity -EQ 'Measure-CircleLoss'
        @($records | Where-Object RecordType -EQ 'Processing').PercentComplete | Should -Be @(0, 25, 50, 75)
        @($records | Where-Object RecordType -EQ 'Processing')[1].StatusDescription | Should -BeLike 'Batch 2 of 4: rows 10..19*'
        $records[-1].RecordType | Should -Be 'Completed'
    }

    It 'stays quiet for one small batch' {
        $run = Invoke-WithProgress $p
        $run.Output.Count | Should -Be 1
        $run.Progress | Should -BeNullOrEmpty
    }

    It 'reports long pipeline input while reading it' {
        $rng = [System.Random]::new(7)
        $rows = for ($i = 0; $i -lt 2500; $i++) {
            $v = @(1..4 | ForEach-Object { $rng.NextDouble() - 0.5 })
            $n = [math]::Sqrt(($v | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
            [pscustomobject]@{ Label = $i % 25; Embedding = @($v | ForEach-Object { $_ / $n }) }
        }
        $run = Invoke-WithProgress @{ Backend = 'Cpu' } $rows
        $run.Output.Count | Should -Be 1
        $run.Output[0].Count | Should -Be 2500
        @($run.Progress | Where-Object StatusDescription -Like 'Reading input:*').StatusDescription |
            Should -Be @('Reading input: 1000 rows', 'Reading input: 2000 rows')
    }
}

Describe 'Verbose output' {
    It 'says which backend ran, and why Auto fell back' {
        $verbose = Measure-CircleLoss -Label 0, 0, 1 -Embedding @(@(1.0, 0.0), @(0.6, 0.8), @(0.0, 1.0)) -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -BeLike '*Measure-CircleLoss: 3 rows of dimension 2 in 1 batch(es), Double precision, on *'
        $info = Get-CircleLossBackend
        if (-not $info.CudaAvailable) { ($verbose.Message -join "`n") | Should -BeLike '*fell back to the CPU*' }
    }
}
