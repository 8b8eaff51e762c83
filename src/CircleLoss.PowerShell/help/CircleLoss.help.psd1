# The help text of the CircleLoss module's cmdlets: the one source of en-US/CircleLoss.PowerShell.dll-Help.xml.
# help/New-MamlHelp.ps1 merges it with the cmdlets' metadata (parameter sets, types, positions, pipeline
# input) into MAML; the Pester suite fails when the shipped XML differs from what the script writes.
@{
    'Measure-CircleLoss'      = @{
        Synopsis    = 'Computes the Circle loss of labelled embeddings (Keras 3 keras.losses.Circle), with its mask and, on request, its gradients.'
        Description = @(
            'Measure-CircleLoss computes the Circle loss (Sun et al., CVPR 2020) exactly as Keras 3''s keras.losses.Circle defines it: for each query row i, the log-sum-exp of the positive-pair logits plus that of the negative-pair logits, through softplus, then reduced as -Reduction says. The default reduction, SumOverBatchSize, divides by the number of rows whose loss is positive (Keras''s output mask), not by N.'
            'Give the N query rows either as arrays (-Label and -Embedding) or through the pipeline: objects with a Label property (an integer) and an Embedding property (an array of numbers, or a string of numbers separated by spaces, commas or semicolons, as a CSV column holds them), and optionally a SampleWeight property. Hashtables work as well as objects.'
            'The loss compares cosine similarities and expects unit-norm (L2-normalised) embeddings; rows whose norm differs from 1 by more than 0.001 produce a warning. Normalise them with ConvertTo-UnitEmbedding.'
            'Without -ReferenceEmbedding the queries are their own references (and the gradient flows through both roles). With -ReferenceEmbedding and -ReferenceLabel, every query is compared with that reference set. With -ReferenceLabel alone, the references are the queries carrying those labels; with -ReferenceEmbedding alone, the reference labels are the query labels.'
            'The computation runs in the native CircleLoss library, on the CPU or a CUDA device (-Backend), in float64 by default (-Precision Double: results agree with a float64 reference to about 1e-12) or float32 (-Precision Single: what training uses, about 1e-5 relative). Results are always written as doubles.'
            'With -BatchSize, the rows are split into consecutive batches, each measured as its own Keras call (one output object per batch); progress is reported through Write-Progress. An explicit reference set (-ReferenceEmbedding with -ReferenceLabel) is shared by every batch; everything that is per query row (labels, embeddings, sample weights, upstream values of reduction None, and -ReferenceLabel or -ReferenceEmbedding given alone) is split with the rows.'
            'Bad input stops the command with a terminating error of category InvalidArgument whose message names the parameter; an unusable backend or native library gives ResourceUnavailable. Catch them with try/catch.'
        )
        Parameters  = @{
            Label              = 'The N query labels, one integer per row (class or identity). Strings holding integers and integral numbers are accepted; 2.5 is refused rather than rounded.'
            Embedding          = 'The N query embeddings: N rows of D numbers each (an array of arrays, JSON arrays, strings of numbers, or a 2-D array). Meant to be L2-normalised.'
            InputObject        = 'Pipeline input: one query row per object, read from its Label and Embedding properties (and SampleWeight when present).'
            ReferenceLabel     = 'The M labels of a reference set. Without -ReferenceEmbedding, the references are the queries carrying these labels (M = N).'
            ReferenceEmbedding = 'The M reference embeddings (M rows of D numbers). Without -ReferenceLabel, the reference labels are the query labels (M = N).'
            SampleWeight       = 'N per-row weights (finite, >= 0); all ones when not given. Pipeline objects can carry them as a SampleWeight property instead.'
            Upstream           = 'The gradient of the output, used with -IncludeGradient: N values for reduction None (the gradients are then those of the sum of Upstream[i] * Loss[i]), one value otherwise. All ones when not given.'
            Gamma              = 'Keras''s gamma: the scale of the logits, finite and > 0.'
            Margin             = 'Keras''s margin: the relaxation, finite.'
            RemoveDiagonal     = 'Keras''s remove_diagonal: when $true, the pair (i, i) is never a positive pair (positional, also with a separate reference set). Give -RemoveDiagonal $false to keep it.'
            Reduction          = 'Keras''s reduction: SumOverBatchSize (the default; the sum over the rows whose loss is positive divided by their count), Mean (the same), Sum, MeanWithSampleWeight, or None (one loss per row). Keras''s own names (sum_over_batch_size, mean_with_sample_weight, ...) work too; press Tab to complete.'
            GradientMode       = 'Which gradient -IncludeGradient computes: Keras (the exact derivative, what Keras''s autodiff gives) or Paper (the pair weights treated as constants, as in the paper''s code and pytorch-metric-learning). The loss is the same in both modes.'
            Backend            = 'Where to compute: Auto (a CUDA device when one is usable, otherwise the CPU; the output''s FallbackReason says why), Cpu, or Cuda (fails with ResourceUnavailable when no CUDA device can be used).'
            DeviceIndex        = 'The CUDA device ordinal, for -Backend Cuda or Auto.'
            ThreadCount        = 'The CPU worker threads; 0 means one per hardware thread.'
            Precision          = 'The compute precision: Double (float64) or Single (float32). Outputs are doubles either way.'
            BatchSize          = 'Split the rows into consecutive batches of this many rows and measure each batch separately (one output object per batch, with progress). 0 measures all rows as one batch.'
            IncludeGradient    = 'Also compute the gradients: Gradient (d loss / d Embedding, N rows of D) and, with -ReferenceEmbedding, ReferenceGradient (M rows of D).'
        }
        Defaults    = @{
            Gamma = '80'; Margin = '0.4'; RemoveDiagonal = '$true'; Reduction = 'SumOverBatchSize'; GradientMode = 'Keras'
            Backend = 'Auto'; DeviceIndex = '0'; ThreadCount = '0'; Precision = 'Double'; BatchSize = '0'; IncludeGradient = 'False'
        }
        Inputs      = @(
            @{ Type = 'System.Management.Automation.PSObject'; Description = 'Objects with Label and Embedding properties (and optionally SampleWeight), one query row each.' }
        )
        Outputs     = @(
            @{ Type = 'CircleLoss.PowerShell.CircleLossMeasurement'; Description = 'One object per batch: Loss (a double, or a double[] of N values for reduction None), PerSampleLoss, Mask, ValidCount, Gradient and ReferenceGradient (with -IncludeGradient), Backend, BackendDescription, FallbackReason, the options used, Count (N), ReferenceCount (M), Dimension (D), BatchIndex and FirstRow.' }
        )
        Notes       = @(
            'Errors: InvalidArgument for bad input (the message names the parameter; FullyQualifiedErrorId tells which check failed, for example EmbeddingRowCount, RaggedEmbedding, NonFiniteInput, InvalidSampleWeight, InvalidGamma); ResourceUnavailable for a backend or native library that cannot be used (BackendUnavailable, NativeLibraryUnavailable) or lack of memory (OutOfMemory); DeviceError for a failure of the CUDA runtime.'
            'The native library is loaded from the module''s linux-x64 folder, or from the file or folder in the environment variable CIRCLELOSS_NATIVE_PATH when it is set before the first use.'
        )
        Examples    = @(
            @{
                Title   = 'Measure a small batch given as arrays'
                Code    = @'
$labels = 0, 0, 1, 1
$embeddings = @(
    @(1.0, 0.0), @(0.8, 0.6),
    @(0.0, 1.0), @(-0.6, 0.8)
)
Measure-CircleLoss -Label $labels -Embedding $embeddings
'@
                Remarks = 'Computes the loss with Keras''s defaults (gamma 80, margin 0.4, reduction SumOverBatchSize) in float64 and writes one CircleLossMeasurement.'
            }
            @{
                Title   = 'Evaluate embeddings exported to CSV, through the pipeline'
                Code    = @'
# embeddings.csv:  Label,Embedding
#                  3,"0.6;0.8;0.0"
Import-Csv ./embeddings.csv | ConvertTo-UnitEmbedding | Measure-CircleLoss -Reduction None |
    Select-Object -ExpandProperty Loss
'@
                Remarks = 'Each CSV row becomes one query row: Label is read as an integer and Embedding as numbers separated by semicolons. ConvertTo-UnitEmbedding normalises the rows first; reduction None writes one loss per row.'
            }
            @{
                Title   = 'Check a golden case, with gradients'
                Code    = @'
$case = Get-Content ./case.json -Raw | ConvertFrom-Json
$r = Measure-CircleLoss -Label $case.input.labels -Embedding $case.input.embeddings `
        -Gamma $case.input.gamma -Margin $case.input.margin -Reduction $case.input.reduction `
        -RemoveDiagonal $case.input.remove_diagonal -IncludeGradient
$r.Loss - $case.expected.keras.loss
$r.Gradient[0]
'@
                Remarks = 'Keras''s reduction names (sum_over_batch_size, ...) are accepted as they are. Gradient holds N rows of D numbers.'
            }
            @{
                Title   = 'Score queries against a gallery (a separate reference set)'
                Code    = 'Measure-CircleLoss -Label $queryLabels -Embedding $queries -ReferenceLabel $galleryLabels -ReferenceEmbedding $gallery -IncludeGradient'
                Remarks = 'Every query is compared with every gallery row; ReferenceGradient holds the gradient with respect to the gallery.'
            }
            @{
                Title   = 'Check a model''s batches on a server, with progress, and catch bad input'
                Code    = @'
try {
    $results = Measure-CircleLoss -Label $labels -Embedding $embeddings -BatchSize 256 -Backend Auto -ErrorAction Stop
    $results | Format-Table
}
catch [System.ArgumentException] {
    Write-Error "Bad batch: $($_.Exception.Message) [$($_.FullyQualifiedErrorId)]"
}
'@
                Remarks = 'Splits the rows into batches of 256, measures each one and reports progress; bad input (for example rows of different lengths) is caught as an ArgumentException with category InvalidArgument.'
            }
        )
        Links       = @('ConvertTo-UnitEmbedding', 'Get-CircleLossBackend', 'about_CircleLoss')
    }

    'Get-CircleLossBackend'   = @{
        Synopsis    = 'Describes the native CircleLoss library and the backends it can use on this machine.'
        Description = @(
            'Get-CircleLossBackend loads the native CircleLoss library (when not already loaded) and writes one CircleLossBackendInfo object: the library''s version and the file it was loaded from, the CPU backend''s threads, GEMM library and kernel, and the CPU instruction-set features it uses, whether a CUDA device can be used, the CUDA devices when it can, and why not when it cannot, and which backend -Backend Auto selects.'
            'When the native library cannot be loaded, the command stops with a ResourceUnavailable error that lists every path tried and why each failed.'
        )
        Parameters  = @{}
        Defaults    = @{}
        Inputs      = @(
            @{ Type = 'None'; Description = 'This command takes no pipeline input.' }
        )
        Outputs     = @(
            @{ Type = 'CircleLoss.PowerShell.CircleLossBackendInfo'; Description = 'LibraryVersion, ModuleVersion, BindingsVersion, LibraryPath, CpuDetail, CpuFeatures, CpuThreads, CudaAvailable, CudaDetail, CudaUnavailableReason, AutoSelects and NativeLibraryPathVariable.' }
        )
        Notes       = @(
            'Set the environment variable CIRCLELOSS_NATIVE_PATH to a library file or folder before the library is first used to load that copy instead of the module''s own.'
        )
        Examples    = @(
            @{
                Title   = 'Show the library and the backends'
                Code    = 'Get-CircleLossBackend'
                Remarks = 'Shows the version, the library path, the CPU features, and whether CUDA is available (and why not).'
            }
            @{
                Title   = 'Use the GPU only when it is there'
                Code    = @'
$backend = if ((Get-CircleLossBackend).CudaAvailable) { 'Cuda' } else { 'Cpu' }
Measure-CircleLoss -Label $labels -Embedding $embeddings -Backend $backend
'@
                Remarks = '-Backend Auto does the same and says why it fell back in the output''s FallbackReason.'
            }
        )
        Links       = @('Measure-CircleLoss', 'about_CircleLoss')
    }

    'ConvertTo-UnitEmbedding' = @{
        Synopsis    = 'L2-normalises embedding rows, as the Circle loss expects.'
        Description = @(
            'ConvertTo-UnitEmbedding divides each row by its L2 norm, so that the dot products Measure-CircleLoss computes are cosine similarities. A row of zeros has no direction: it stays zeros, with a warning.'
            'With -Embedding, the rows are written back as one matrix (an array of double[] rows), so a single-row matrix stays a matrix. From the pipeline, each input is one row: an array of numbers (written back as a normalised double[]), a string of numbers, or an object or hashtable with an Embedding property (written back as a copy whose Embedding is normalised, every other property kept), which makes Import-Csv | ConvertTo-UnitEmbedding | Measure-CircleLoss work.'
            'A non-finite value or an empty row stops the command with an InvalidArgument error naming the row.'
        )
        Parameters  = @{
            Embedding   = 'The rows to normalise: an array of rows of numbers, JSON arrays, strings of numbers, or a 2-D array.'
            InputObject = 'Pipeline input: a row of numbers, or an object with an Embedding property.'
        }
        Defaults    = @{}
        Inputs      = @(
            @{ Type = 'System.Management.Automation.PSObject'; Description = 'Rows of numbers, or objects with an Embedding property.' }
        )
        Outputs     = @(
            @{ Type = 'System.Double[][]'; Description = 'With -Embedding: the normalised rows, as one matrix.' }
            @{ Type = 'System.Double[]'; Description = 'From the pipeline, for each row of numbers: the normalised row.' }
            @{ Type = 'System.Management.Automation.PSObject'; Description = 'From the pipeline, for each object with an Embedding property: a copy with Embedding normalised.' }
        )
        Notes       = @(
            'To pipe the rows of a matrix, let PowerShell enumerate it ($matrix | ConvertTo-UnitEmbedding); to pipe a single row, wrap it with the unary comma (,$row | ConvertTo-UnitEmbedding).'
        )
        Examples    = @(
            @{
                Title   = 'Normalise a matrix'
                Code    = @'
$unit = ConvertTo-UnitEmbedding -Embedding @(@(3, 4), @(0, 2))
$unit[0]   # 0.6, 0.8
'@
                Remarks = 'Writes one matrix of two rows.'
            }
            @{
                Title   = 'Normalise rows read from a CSV file before measuring them'
                Code    = 'Import-Csv ./embeddings.csv | ConvertTo-UnitEmbedding | Measure-CircleLoss'
                Remarks = 'Each object keeps its other properties (Label, ...) and gets its Embedding normalised.'
            }
        )
        Links       = @('Measure-CircleLoss', 'about_CircleLoss')
    }
}
