#Requires -Version 7.4
# Every bad input: a terminating error with a stable FullyQualifiedErrorId, the right ErrorRecord category,
# a message that names the parameter, and never a .NET stack trace.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $GoldenDir,
    [Parameter(Mandatory)] [string] $RepoRoot
)

BeforeDiscovery {
    $ok = '@(@(1.0, 0.0), @(0.6, 0.8), @(0.0, 1.0))'
    # Name, the command (text, so that the test names show it), the error id, the category, and the
    # parameter (or phrase) the message must name.
    $bad = @(
        @{ Name = 'no rows'; Command = 'Measure-CircleLoss -Label @() -Embedding @()'; Id = 'EmptyInput'; Category = 'InvalidArgument'; Names = '-Label' }
        @{ Name = 'more rows than labels'; Command = "Measure-CircleLoss -Label 0, 1 -Embedding $ok"; Id = 'EmbeddingRowCount'; Category = 'InvalidArgument'; Names = '-Embedding' }
        @{ Name = 'rows of different lengths'; Command = 'Measure-CircleLoss -Label 0, 1 -Embedding @(@(1.0, 0.0), @(0.0, 1.0, 0.0))'; Id = 'RaggedEmbedding'; Category = 'InvalidArgument'; Names = '-Embedding row 1' }
        @{ Name = 'NaN in the embeddings'; Command = 'Measure-CircleLoss -Label 0, 1 -Embedding @(@(1.0, 0.0), @([double]::NaN, 1.0))'; Id = 'NonFiniteInput'; Category = 'InvalidArgument'; Names = '-Embedding: problem->embeddings has a non-finite value*at row 1, column 0' }
        @{ Name = 'NaN in the second batch (the library checks each batch)'; Command = 'Measure-CircleLoss -Label 0, 1, 0, 1 -Embedding @(@(1.0, 0.0), @(0.0, 1.0), @(1.0, 0.0), @(0.0, [double]::NaN)) -BatchSize 2'; Id = 'NonFiniteInput'; Category = 'InvalidArgument'; Names = '-Embedding: problem->embeddings has a non-finite value*at row 1, column 1 (in batch 2 of 2, rows 2..3: the index is within the batch)' }
        @{ Name = 'infinity in the reference embeddings'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ReferenceLabel 0 -ReferenceEmbedding @(,@([double]::PositiveInfinity, 0.0))"; Id = 'NonFiniteInput'; Category = 'InvalidArgument'; Names = '-ReferenceEmbedding: problem->ref_embeddings has a non-finite value (inf) at row 0, column 0' }
        @{ Name = 'reference rows of another dimension'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ReferenceLabel 0 -ReferenceEmbedding @(,@(1.0, 0.0, 0.0))"; Id = 'DimensionMismatch'; Category = 'InvalidArgument'; Names = '-ReferenceEmbedding' }
        @{ Name = 'reference labels that do not match the reference rows'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ReferenceLabel 0, 1 -ReferenceEmbedding @(,@(1.0, 0.0))"; Id = 'ReferenceLabelCount'; Category = 'InvalidArgument'; Names = '-ReferenceLabel' }
        @{ Name = 'reference rows without labels, M != N'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ReferenceEmbedding @(,@(1.0, 0.0))"; Id = 'ReferenceEmbeddingRowCount'; Category = 'InvalidArgument'; Names = '-ReferenceEmbedding' }
        @{ Name = 'reference labels without rows, M != N'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ReferenceLabel 0, 1"; Id = 'ReferenceLabelCount'; Category = 'InvalidArgument'; Names = '-ReferenceLabel' }
        @{ Name = 'an empty reference set'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ReferenceLabel @() -ReferenceEmbedding @()"; Id = 'EmptyReference'; Category = 'InvalidArgument'; Names = '-ReferenceEmbedding' }
        @{ Name = 'too few sample weights'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -SampleWeight 1, 1"; Id = 'SampleWeightCount'; Category = 'InvalidArgument'; Names = '-SampleWeight' }
        @{ Name = 'a negative sample weight'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -SampleWeight 1, -1, 1"; Id = 'InvalidSampleWeight'; Category = 'InvalidArgument'; Names = '-SampleWeight: problem->sample_weights must be >= 0; index 1 is -1' }
        @{ Name = 'a NaN sample weight'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -SampleWeight 1, 1, ([double]::NaN)"; Id = 'InvalidSampleWeight'; Category = 'InvalidArgument'; Names = '-SampleWeight: problem->sample_weights has a non-finite value*at index 2' }
        @{ Name = 'gamma 0'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Gamma 0"; Id = 'InvalidGamma'; Category = 'InvalidArgument'; Names = '-Gamma' }
        @{ Name = 'gamma NaN'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Gamma ([double]::NaN)"; Id = 'InvalidGamma'; Category = 'InvalidArgument'; Names = '-Gamma' }
        @{ Name = 'a gamma that is zero in float32 (fuzz finding of issue 12)'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Gamma 4.9406564584124654e-324 -Precision Single"; Id = 'InvalidGamma'; Category = 'InvalidArgument'; Names = '-Gamma*: options->gamma (4.9406564584124654e-324) is zero in float32' }
        @{ Name = 'a gamma that is denormal in float64'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Gamma 1e-310"; Id = 'InvalidGamma'; Category = 'InvalidArgument'; Names = '-Gamma*: options->gamma (9.9999999999999694e-311) is denormal in float64' }
        @{ Name = 'a margin that is denormal in float32'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Margin 1e-40 -Precision Single"; Id = 'InvalidMargin'; Category = 'InvalidArgument'; Names = '-Margin: options->margin (9.9999999999999993e-41) is denormal in float32' }
        @{ Name = 'an infinite margin'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Margin ([double]::PositiveInfinity)"; Id = 'InvalidMargin'; Category = 'InvalidArgument'; Names = '-Margin' }
        @{ Name = 'upstream without gradients'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Upstream 1"; Id = 'UpstreamWithoutGradient'; Category = 'InvalidArgument'; Names = '-Upstream' }
        @{ Name = 'upstream of the wrong length (reduction None)'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Reduction None -IncludeGradient -Upstream 1, 1"; Id = 'UpstreamCount'; Category = 'InvalidArgument'; Names = '-Upstream' }
        @{ Name = 'upstream of the wrong length (a scalar reduction)'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -IncludeGradient -Upstream 1, 1"; Id = 'UpstreamCount'; Category = 'InvalidArgument'; Names = '-Upstream' }
        @{ Name = 'a NaN upstream value'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -IncludeGradient -Upstream ([double]::NaN)"; Id = 'NonFiniteInput'; Category = 'InvalidArgument'; Names = '-Upstream' }
        @{ Name = 'a negative thread count'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -ThreadCount -1"; Id = 'InvalidThreadCount'; Category = 'InvalidArgument'; Names = '-ThreadCount' }
        @{ Name = 'a negative batch size'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -BatchSize -2"; Id = 'InvalidBatchSize'; Category = 'InvalidArgument'; Names = '-BatchSize' }
        @{ Name = 'a negative device index'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -DeviceIndex -1"; Id = 'InvalidDeviceIndex'; Category = 'InvalidArgument'; Names = '-DeviceIndex' }
        @{ Name = 'a pipeline object without Embedding'; Command = "[pscustomobject]@{ Label = 1; Vector = '1;0' } | Measure-CircleLoss"; Id = 'InputObjectShape'; Category = 'InvalidArgument'; Names = 'Input object 0*no Embedding property' }
        @{ Name = 'a pipeline object without Label'; Command = "@{ Embedding = '1;0' } | Measure-CircleLoss"; Id = 'InputObjectShape'; Category = 'InvalidArgument'; Names = 'Input object 0*no Label property' }
        @{ Name = 'a pipeline Embedding that is not numbers'; Command = "[pscustomobject]@{ Label = 1; Embedding = '1;0' }, [pscustomobject]@{ Label = 2; Embedding = '0;x' } | Measure-CircleLoss"; Id = 'InvalidInputObject'; Category = 'InvalidArgument'; Names = 'the Embedding of input object 1*''x''' }
        @{ Name = 'a pipeline Label that is not an integer'; Command = "[pscustomobject]@{ Label = 'cat'; Embedding = '1;0' } | Measure-CircleLoss"; Id = 'InvalidInputObject'; Category = 'InvalidArgument'; Names = 'the Label of input object 0' }
        @{ Name = 'pipeline rows of different lengths'; Command = "[pscustomobject]@{ Label = 1; Embedding = '1;0' }, [pscustomobject]@{ Label = 2; Embedding = '0;1;0' } | Measure-CircleLoss"; Id = 'RaggedEmbedding'; Category = 'InvalidArgument'; Names = 'input objects'' Embedding row 1' }
        @{ Name = 'SampleWeight on some pipeline objects only'; Command = "[pscustomobject]@{ Label = 1; Embedding = '1;0'; SampleWeight = 1 }, [pscustomobject]@{ Label = 2; Embedding = '0;1' } | Measure-CircleLoss"; Id = 'InputObjectShape'; Category = 'InvalidArgument'; Names = 'SampleWeight' }
        @{ Name = 'sample weights given twice'; Command = "[pscustomobject]@{ Label = 1; Embedding = '1;0'; SampleWeight = 1 } | Measure-CircleLoss -SampleWeight 1"; Id = 'SampleWeightGivenTwice'; Category = 'InvalidArgument'; Names = '-SampleWeight' }
        @{ Name = 'a NaN to normalise'; Command = 'ConvertTo-UnitEmbedding -Embedding @(@(1.0, 0.0), @([double]::NaN, 0.0))'; Id = 'NonFiniteInput'; Category = 'InvalidArgument'; Names = '-Embedding row 1, column 0' }
        @{ Name = 'an empty row to normalise'; Command = ',@() | ConvertTo-UnitEmbedding'; Id = 'EmptyEmbedding'; Category = 'InvalidArgument'; Names = 'input object 0' }
        @{ Name = 'an object without Embedding to normalise'; Command = "[pscustomobject]@{ Label = 1 } | ConvertTo-UnitEmbedding"; Id = 'InvalidInputObject'; Category = 'InvalidArgument'; Names = 'no Embedding property' }
    )
    # Parameter binding errors are PowerShell's own (category InvalidData or InvalidArgument); their
    # messages name the parameter too.
    $binding = @(
        @{ Name = 'a label that is not an integer'; Command = "Measure-CircleLoss -Label 0, 2.5, 1 -Embedding $ok"; Parameter = 'Label'; Detail = '2.5' }
        @{ Name = 'a reduction that does not exist'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Reduction average"; Parameter = 'Reduction'; Detail = 'average' }
        @{ Name = 'a reduction number out of range'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Reduction 9"; Parameter = 'Reduction'; Detail = '9' }
        @{ Name = 'a backend that does not exist'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -Backend Tpu"; Parameter = 'Backend'; Detail = 'Tpu' }
        @{ Name = 'an embedding that is not numbers'; Command = "Measure-CircleLoss -Label 0, 1 -Embedding @('1;0', '0;y')"; Parameter = 'Embedding'; Detail = 'y' }
        @{ Name = 'a sample weight that is not a number'; Command = "Measure-CircleLoss -Label 0, 1, 1 -Embedding $ok -SampleWeight 1, 'heavy', 1"; Parameter = 'SampleWeight'; Detail = 'heavy' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModulePath -Force

    function Get-ErrorRecord([string] $Command) {
        try {
            $null = Invoke-Expression $Command
        }
        catch {
            return $_
        }
        throw "no error from: $Command"
    }
}

Describe 'Bad input is a terminating error that names the parameter' {
    It '<Name>: <Id>, <Category>' -ForEach $bad {
        $record = Get-ErrorRecord $Command
        $record.FullyQualifiedErrorId | Should -BeLike "$Id,CircleLoss.PowerShell.*"
        "$($record.CategoryInfo.Category)" | Should -Be $Category
        $record.Exception | Should -BeOfType [System.ArgumentException]
        $message = "$record"
        $message | Should -BeLike "*$($Names -replace '([\[\]])', '`$1')*"   # '*' in Names is a wildcard, brackets are not
        $message | Should -Not -Match '\bat [\w.]+\(|   at |Exception:'
        $record.Exception.Message | Should -Not -Match '   at '
    }

    It '<Name>: a binding error that names -<Parameter>' -ForEach $binding {
        $record = Get-ErrorRecord $Command
        $record.Exception | Should -BeOfType [System.Management.Automation.ParameterBindingException]
        "$record" | Should -BeLike "*'$Parameter'*"
        "$record" | Should -BeLike "*$Detail*"
    }

    It 'stops the command even with -ErrorAction SilentlyContinue, and writes nothing' {
        $script:written = 0
        { Measure-CircleLoss -Label 0, 1 -Embedding @(, @(1.0, 0.0)) -ErrorAction SilentlyContinue | ForEach-Object { $script:written++ } } |
            Should -Throw -ErrorId 'EmbeddingRowCount,*'
        $script:written | Should -Be 0
    }

    It 'can be caught as an ArgumentException with try/catch' {
        $caught = $null
        try { Measure-CircleLoss -Label 0, 1 -Embedding @(@(1.0, 0.0), @(0.0)) }
        catch [System.ArgumentException] { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.Exception.ParamName | Should -Be 'Embedding'
    }
}

Describe 'An unusable backend' {
    It 'is a ResourceUnavailable error (BackendUnavailable) that says why, when CUDA cannot be used' {
        $info = Get-CircleLossBackend
        if ($info.CudaAvailable) {
            Set-ItResult -Skipped -Because 'CUDA is usable on this machine'
            return
        }
        $record = Get-ErrorRecord 'Measure-CircleLoss -Label 0, 1, 1 -Embedding @(@(1.0, 0.0), @(0.6, 0.8), @(0.0, 1.0)) -Backend Cuda'
        $record.FullyQualifiedErrorId | Should -BeLike 'BackendUnavailable,*'
        "$($record.CategoryInfo.Category)" | Should -Be 'ResourceUnavailable'
        "$record" | Should -BeLike '-Backend:*CUDA*'
        $record.ErrorDetails.RecommendedAction | Should -BeLike '*Auto*'
    }
}
