using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

/// <summary>
/// <c>Measure-CircleLoss</c>: the Circle loss (Keras 3 <c>keras.losses.Circle</c>) of labelled embeddings, with
/// the output mask and, on request, the gradients. Input as arrays (-Label, -Embedding) or as pipeline objects
/// with Label and Embedding properties. Computes in float64 unless -Precision Single.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "CircleLoss", DefaultParameterSetName = ArraysSet)]
[OutputType(typeof(CircleLossMeasurement))]
public sealed class MeasureCircleLossCommand : PSCmdlet, IDisposable
{
    private const string ArraysSet = "Arrays";
    private const string PipelineSet = "Pipeline";

    /// <summary>How far a row's L2 norm may be from 1 before Measure-CircleLoss warns.</summary>
    public const double UnitNormTolerance = 1e-3;

    /// <summary>N·M·D from which one batch reports its phases through Write-Progress.</summary>
    private const long LongBatchWork = 20_000_000;

    private const int ProgressActivityId = 0x0C1C;
    private const int ReadProgressInterval = 1000;

    private readonly List<int> _pipelineLabels = [];
    private readonly List<double[]> _pipelineRows = [];
    private readonly List<double> _pipelineWeights = [];
    private int _pipelineWeightRows;
    private readonly CmdletLogger _logger = new();
    private Circle? _circle;

    /// <summary>The N query labels.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ArraysSet)]
    [LabelTransformation]
    [AllowEmptyCollection]
    public int[] Label { get; set; } = [];

    /// <summary>The N query embeddings: N rows of D numbers, meant to be L2-normalised.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ArraysSet)]
    [MatrixTransformation]
    [AllowEmptyCollection]
    public double[][] Embedding { get; set; } = [];

    /// <summary>One query row per pipeline object: its Label and Embedding properties (and optionally SampleWeight).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PipelineSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>The M reference labels.</summary>
    [Parameter]
    [LabelTransformation]
    [AllowEmptyCollection]
    public int[]? ReferenceLabel { get; set; }

    /// <summary>The M reference embeddings (M rows of D).</summary>
    [Parameter]
    [MatrixTransformation]
    [AllowEmptyCollection]
    public double[][]? ReferenceEmbedding { get; set; }

    /// <summary>N per-row weights (≥ 0); all ones when not given.</summary>
    [Parameter]
    [VectorTransformation]
    [Alias("Weight")]
    public double[]? SampleWeight { get; set; }

    /// <summary>The gradient of the output (N values for reduction None, else 1); ones when not given. Needs -IncludeGradient.</summary>
    [Parameter]
    [VectorTransformation]
    public double[]? Upstream { get; set; }

    /// <summary>Keras's gamma, the scale of the logits (default 80).</summary>
    [Parameter]
    public double Gamma { get; set; } = 80.0;

    /// <summary>Keras's margin (default 0.4).</summary>
    [Parameter]
    public double Margin { get; set; } = 0.4;

    /// <summary>Keras's remove_diagonal: whether the pair (i, i) is left out of the positives (default $true).</summary>
    [Parameter]
    public bool RemoveDiagonal { get; set; } = true;

    /// <summary>Keras's reduction (default SumOverBatchSize); Keras's names (sum_over_batch_size) work too. Tab
    /// completes the enum's names (PowerShell's own completion for enum parameters).</summary>
    [Parameter]
    [ReductionTransformation]
    public Reduction Reduction { get; set; } = Reduction.SumOverBatchSize;

    /// <summary>Which gradient -IncludeGradient computes: Keras (exact derivative, the default) or Paper.</summary>
    [Parameter]
    public GradientMode GradientMode { get; set; } = GradientMode.Keras;

    /// <summary>Where to compute: Auto (CUDA when usable, else the CPU; the default), Cpu or Cuda.</summary>
    [Parameter]
    public Backend Backend { get; set; } = Backend.Auto;

    /// <summary>The CUDA device ordinal (default 0).</summary>
    [Parameter]
    public int DeviceIndex { get; set; }

    /// <summary>CPU worker threads; 0 (the default) means one per hardware thread.</summary>
    [Parameter]
    public int ThreadCount { get; set; }

    /// <summary>The compute precision: Double (the default) or Single.</summary>
    [Parameter]
    public CircleLossPrecision Precision { get; set; } = CircleLossPrecision.Double;

    /// <summary>Split the input into consecutive batches of this many rows and measure each one (0, the default:
    /// one batch of all rows).</summary>
    [Parameter]
    public int BatchSize { get; set; }

    /// <summary>Also compute the gradients (Gradient, and ReferenceGradient with -ReferenceEmbedding).</summary>
    [Parameter]
    public SwitchParameter IncludeGradient { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        if (!Enum.IsDefined(Precision))
        {
            Fail(Errors.InvalidArgument("InvalidPrecision", nameof(Precision),
                $"-Precision must be Double or Single, but is {(int)Precision}.", Precision));
        }

        if (BatchSize < 0)
        {
            Fail(Errors.InvalidArgument("InvalidBatchSize", nameof(BatchSize),
                $"-BatchSize must be >= 0 (0: all rows in one batch), but is {BatchSize}.", BatchSize));
        }

        if (Upstream is not null && !IncludeGradient)
        {
            Fail(Errors.InvalidArgument("UpstreamWithoutGradient", nameof(Upstream),
                "-Upstream only scales the gradients: add -IncludeGradient, or leave -Upstream out.", Upstream));
        }

        // The loss is created first, so that options the library rejects fail before any pipeline input is read.
        // The library checks every option and value; this cmdlet repeats none of its rules (Errors.FromException
        // names the parameter the library rejected).
        var options = new CircleOptions
        {
            Gamma = Gamma,
            Margin = Margin,
            RemoveDiagonal = RemoveDiagonal,
            Reduction = Reduction,
            GradientMode = GradientMode,
            Backend = Backend,
            DeviceIndex = DeviceIndex,
            ThreadCount = ThreadCount,
        };
        try
        {
            _circle = new Circle(options, _logger);
        }
        catch (Exception e) when (Errors.IsReportable(e))
        {
            _logger.Flush(this);
            Fail(Errors.FromException(e, null, Display));
        }

        _logger.Flush(this);
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName != PipelineSet)
        {
            return;
        }

        int row = _pipelineRows.Count;
        object? input = InputObject?.BaseObject;
        if (input is null)
        {
            Fail(Errors.InvalidInputObject("NullInputObject", $"Input object {row} is null: each pipeline object must have Label and Embedding properties.", null));
        }

        object? label = GetProperty(InputObject!, "Label", out bool hasLabel);
        object? embedding = GetProperty(InputObject!, "Embedding", out bool hasEmbedding);
        if (!hasLabel || !hasEmbedding)
        {
            string missing = !hasLabel && !hasEmbedding ? "Label or Embedding property" : !hasLabel ? "Label property" : "Embedding property";
            Fail(Errors.InvalidInputObject("InputObjectShape",
                $"Input object {row} ({Describe(InputObject!)}) has no {missing}: each pipeline object must have Label (an integer) and Embedding (numbers: an array, or a string such as '0.6;0.8').",
                InputObject));
        }

        try
        {
            _pipelineLabels.Add(InputConversion.ToLabel(label, $"the Label of input object {row}"));
            double[] vector = InputConversion.ToVector(embedding, $"the Embedding of input object {row}");
            _pipelineRows.Add(vector);
            object? weight = GetProperty(InputObject!, "SampleWeight", out bool hasWeight);
            if (hasWeight)
            {
                _pipelineWeights.Add(InputConversion.ToNumber(weight, $"the SampleWeight of input object {row}"));
                _pipelineWeightRows++;
            }
            else
            {
                _pipelineWeights.Add(1.0);
            }
        }
        catch (InputConversionException e)
        {
            Fail(Errors.InvalidInputObject("InvalidInputObject", e.Message, InputObject));
        }

        if (_pipelineRows.Count % ReadProgressInterval == 0)
        {
            WriteProgress(new ProgressRecord(ProgressActivityId, "Measure-CircleLoss", $"Reading input: {_pipelineRows.Count} rows"));
        }
    }

    /// <summary>Releases the native session when the pipeline ends or is stopped (PowerShell calls this).</summary>
    public void Dispose()
    {
        _circle?.Dispose();
        _circle = null;
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        try
        {
            MeasureAll();
        }
        finally
        {
            Dispose();
        }
    }

    private void MeasureAll()
    {
        int[] labels;
        double[][] rows;
        double[]? weights = SampleWeight;
        string labelName;
        string embeddingName;
        if (ParameterSetName == PipelineSet)
        {
            if (_pipelineRows.Count == 0)
            {
                return; // nothing came down the pipeline: nothing to measure
            }

            labels = _pipelineLabels.ToArray();
            rows = _pipelineRows.ToArray();
            labelName = "the input objects' Label";
            embeddingName = "the input objects' Embedding";
            if (_pipelineWeightRows > 0)
            {
                if (SampleWeight is not null)
                {
                    Fail(Errors.InvalidArgument("SampleWeightGivenTwice", nameof(SampleWeight),
                        "-SampleWeight was given and the input objects have SampleWeight properties: give the weights one way only."));
                }

                if (_pipelineWeightRows != _pipelineRows.Count)
                {
                    Fail(Errors.InvalidInputObject("InputObjectShape",
                        $"{_pipelineWeightRows} of the {_pipelineRows.Count} input objects have a SampleWeight property: give it on every object or on none.", null));
                }

                weights = _pipelineWeights.ToArray();
            }
        }
        else
        {
            labels = Label;
            rows = Embedding;
            labelName = "-Label";
            embeddingName = "-Embedding";
        }

        int dimension = Validate(labels, rows, weights, labelName, embeddingName);
        WarnUnlessUnitNorm(rows, embeddingName);
        if (ReferenceEmbedding is not null)
        {
            WarnUnlessUnitNorm(ReferenceEmbedding, "-ReferenceEmbedding");
        }

        Measure(labels, rows, dimension, weights);
    }

    // --------------------------------------------------------------------------------------------
    // Checks: every message names the parameter and says what was expected.
    // --------------------------------------------------------------------------------------------

    private int Validate(int[] labels, double[][] rows, double[]? weights, string labelName, string embeddingName)
    {
        string embeddingParameter = ParameterSetName == PipelineSet ? "InputObject" : nameof(Embedding);
        string labelParameter = ParameterSetName == PipelineSet ? "InputObject" : nameof(Label);
        int n = labels.Length;
        if (n == 0)
        {
            Fail(Errors.InvalidArgument("EmptyInput", labelParameter, $"{labelName} is empty: give at least one labelled row."));
        }

        if (rows.Length != n)
        {
            Fail(Errors.InvalidArgument("EmbeddingRowCount", embeddingParameter,
                $"{embeddingName} has {rows.Length} rows but {labelName} has {n} labels: give one embedding row per label."));
        }

        int dimension = CheckMatrix(rows, embeddingName, embeddingParameter, 0);
        int m = n;
        if (ReferenceEmbedding is not null)
        {
            m = ReferenceEmbedding.Length;
            if (m == 0)
            {
                Fail(Errors.InvalidArgument("EmptyReference", nameof(ReferenceEmbedding), "-ReferenceEmbedding is empty: give at least one reference row, or leave it out."));
            }

            CheckMatrix(ReferenceEmbedding, "-ReferenceEmbedding", nameof(ReferenceEmbedding), dimension);
            if (ReferenceLabel is not null && ReferenceLabel.Length != m)
            {
                Fail(Errors.InvalidArgument("ReferenceLabelCount", nameof(ReferenceLabel),
                    $"-ReferenceLabel has {ReferenceLabel.Length} labels but -ReferenceEmbedding has {m} rows: give one label per reference row."));
            }

            if (ReferenceLabel is null && m != n)
            {
                Fail(Errors.InvalidArgument("ReferenceEmbeddingRowCount", nameof(ReferenceEmbedding),
                    $"-ReferenceEmbedding has {m} rows, but without -ReferenceLabel the reference labels are {labelName}, so it must have N = {n} rows: give -ReferenceLabel."));
            }
        }
        else if (ReferenceLabel is not null && ReferenceLabel.Length != n)
        {
            Fail(Errors.InvalidArgument("ReferenceLabelCount", nameof(ReferenceLabel),
                $"-ReferenceLabel has {ReferenceLabel.Length} labels, but without -ReferenceEmbedding the references are the queries, so it must have N = {n} labels: give -ReferenceEmbedding."));
        }

        if (weights is not null)
        {
            string weightParameter = SampleWeight is not null ? nameof(SampleWeight) : "InputObject";
            string weightName = SampleWeight is not null ? "-SampleWeight" : "the input objects' SampleWeight";
            if (weights.Length != n)
            {
                Fail(Errors.InvalidArgument("SampleWeightCount", weightParameter,
                    $"{weightName} has {weights.Length} values but {labelName} has {n} labels: give one weight per row."));
            }

        }

        if (Upstream is not null)
        {
            int expected = Reduction == Reduction.None ? n : 1;
            if (Upstream.Length != expected)
            {
                Fail(Errors.InvalidArgument("UpstreamCount", nameof(Upstream), Reduction == Reduction.None
                    ? $"-Upstream has {Upstream.Length} values, but reduction None has one loss per row: give N = {n} values."
                    : $"-Upstream has {Upstream.Length} values, but reduction {Reduction} gives one loss: give 1 value."));
            }

        }

        return dimension;
    }

    /// <summary>Checks that a matrix is rectangular and non-empty in its columns (what the library cannot see in a
    /// flat array); returns D. Its values are the library's to check.</summary>
    private int CheckMatrix(double[][] matrix, string name, string parameter, int expectedDimension)
    {
        int dimension = matrix[0]?.Length ?? 0;
        if (dimension == 0)
        {
            Fail(Errors.InvalidArgument("EmptyEmbedding", parameter, $"{name} row 0 is empty: every row needs at least one value (D >= 1)."));
        }

        if (expectedDimension != 0 && dimension != expectedDimension)
        {
            Fail(Errors.InvalidArgument("DimensionMismatch", parameter,
                $"{name} has rows of {dimension} values but the query embeddings have {expectedDimension}: both must have the same dimension D."));
        }

        for (int i = 0; i < matrix.Length; i++)
        {
            double[] row = matrix[i];
            if (row is null || row.Length != dimension)
            {
                Fail(Errors.InvalidArgument("RaggedEmbedding", parameter,
                    $"{name} row {i} has {row?.Length ?? 0} values but row 0 has {dimension}: every row must have the same dimension D."));
            }

        }

        return dimension;
    }

    private void WarnUnlessUnitNorm(double[][] rows, string name)
    {
        int count = 0;
        int first = -1;
        double firstNorm = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            double sum = 0;
            foreach (double v in rows[i])
            {
                sum += v * v;
            }

            double norm = Math.Sqrt(sum);
            if (double.IsFinite(norm) && Math.Abs(norm - 1) > UnitNormTolerance) // NaN or infinity: the library says which value
            {
                if (count++ == 0)
                {
                    first = i;
                    firstNorm = norm;
                }
            }
        }

        if (count > 0)
        {
            WriteWarning(
                $"{count} of {rows.Length} rows of {name} are not unit-norm (row {first} has L2 norm {firstNorm.ToString("G6", CultureInfo.InvariantCulture)}). " +
                "Circle loss scores cosine similarities and expects L2-normalised embeddings: normalise them with ConvertTo-UnitEmbedding.");
        }
    }

    // --------------------------------------------------------------------------------------------
    // The computation, batch by batch.
    // --------------------------------------------------------------------------------------------

    private void Measure(int[] labels, double[][] rows, int dimension, double[]? weights)
    {
        int n = labels.Length;
        int batchSize = BatchSize > 0 ? Math.Min(BatchSize, n) : n;
        int batches = (n + batchSize - 1) / batchSize;
        bool sharedReferences = ReferenceEmbedding is not null && ReferenceLabel is not null;
        long referenceRows = ReferenceEmbedding?.Length ?? batchSize;
        bool longBatch = (long)batchSize * referenceRows * dimension >= LongBatchWork;
        bool progress = batches > 1 || longBatch;

        Circle circle = _circle!;
        string batchContext = string.Empty;
        try
        {
            WriteVerbose($"Measure-CircleLoss: {n} rows of dimension {dimension} in {batches} batch(es), {Precision} precision, on {circle.Description}");

            var stopwatch = Stopwatch.StartNew();
            for (int b = 0; b < batches; b++)
            {
                int start = b * batchSize;
                int count = Math.Min(batchSize, n - start);
                if (progress)
                {
                    // A new record each time: hosts and Streams.Progress keep the records they are given.
                    string status = batches > 1
                        ? $"Batch {b + 1} of {batches}: rows {start}..{start + count - 1} on {circle.Backend}"
                        : $"{count} rows x {referenceRows} references x {dimension} dimensions on {circle.Backend}";
                    WriteProgress(new ProgressRecord(ProgressActivityId, "Measure-CircleLoss", status)
                    {
                        PercentComplete = (int)(100L * b / batches),
                        CurrentOperation = IncludeGradient ? "loss and gradients" : "loss",
                    });
                }

                batchContext = batches > 1
                    ? $" (in batch {b + 1} of {batches}, rows {start}..{start + count - 1}: the index is within the batch)"
                    : string.Empty;
                int[] batchLabels = Slice(labels, start, count);
                double[][] batchRows = Slice(rows, start, count);
                double[]? batchWeights = weights is null ? null : Slice(weights, start, count);
                double[]? batchUpstream = Upstream is null ? null : Reduction == Reduction.None ? Slice(Upstream, start, count) : Upstream;
                int[]? batchRefLabels = ReferenceLabel is null ? null : sharedReferences ? ReferenceLabel : Slice(ReferenceLabel, start, count);
                double[][]? batchRefRows = ReferenceEmbedding is null ? null : sharedReferences ? ReferenceEmbedding : Slice(ReferenceEmbedding, start, count);

                CircleLossMeasurement measurement = Precision == CircleLossPrecision.Single
                    ? ComputeSingle(circle, batchLabels, batchRows, dimension, batchWeights, batchRefLabels, batchRefRows, batchUpstream, b, start)
                    : ComputeDouble(circle, batchLabels, batchRows, dimension, batchWeights, batchRefLabels, batchRefRows, batchUpstream, b, start);
                _logger.Flush(this);
                WriteObject(measurement);
            }

            if (progress)
            {
                WriteProgress(new ProgressRecord(ProgressActivityId, "Measure-CircleLoss", "Done")
                {
                    PercentComplete = 100,
                    RecordType = ProgressRecordType.Completed,
                });
            }

            WriteVerbose($"Measure-CircleLoss: done in {stopwatch.Elapsed.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)} ms");
        }
        catch (Exception e) when (Errors.IsReportable(e))
        {
            _logger.Flush(this);
            Fail(Errors.FromException(e, null, Display, batchContext));
        }
    }

    /// <summary>How messages call one of this cmdlet's parameters: "-Embedding", or the input objects' property.</summary>
    private string Display(string parameter) => parameter switch
    {
        "Label" or "Embedding" when ParameterSetName == PipelineSet => $"the input objects' {parameter}",
        "SampleWeight" when ParameterSetName == PipelineSet && SampleWeight is null => "the input objects' SampleWeight",
        _ => "-" + parameter,
    };

    private CircleLossMeasurement ComputeDouble(Circle circle, int[] labels, double[][] rows, int dimension, double[]? weights,
        int[]? refLabels, double[][]? refRows, double[]? upstream, int batch, int start)
    {
        CircleResult<double> result = circle.Compute(labels, ToMatrix(rows, dimension), IncludeGradient.IsPresent, weights,
            refLabels, refRows is null ? null : ToMatrix(refRows, dimension), upstream);
        return Build(circle, result.Loss, result.PerSampleLoss, result.Mask,
            result.GradEmbeddings is null ? null : ToJagged(result.GradEmbeddings),
            result.GradRefEmbeddings is null ? null : ToJagged(result.GradRefEmbeddings),
            labels.Length, refRows?.Length ?? refLabels?.Length ?? labels.Length, dimension, batch, start);
    }

    private CircleLossMeasurement ComputeSingle(Circle circle, int[] labels, double[][] rows, int dimension, double[]? weights,
        int[]? refLabels, double[][]? refRows, double[]? upstream, int batch, int start)
    {
        CircleResult<float> result = circle.Compute(labels, ToSingleMatrix(rows, dimension), IncludeGradient.IsPresent, ToSingle(weights),
            refLabels, refRows is null ? null : ToSingleMatrix(refRows, dimension), ToSingle(upstream));
        return Build(circle, Array.ConvertAll(result.Loss, v => (double)v), Array.ConvertAll(result.PerSampleLoss, v => (double)v), result.Mask,
            result.GradEmbeddings is null ? null : ToJagged(result.GradEmbeddings),
            result.GradRefEmbeddings is null ? null : ToJagged(result.GradRefEmbeddings),
            labels.Length, refRows?.Length ?? refLabels?.Length ?? labels.Length, dimension, batch, start);
    }

    private CircleLossMeasurement Build(Circle circle, double[] loss, double[] perSampleLoss, bool[] mask, double[][]? gradient,
        double[][]? referenceGradient, int n, int m, int dimension, int batch, int start)
    {
        int valid = 0;
        foreach (bool v in mask)
        {
            valid += v ? 1 : 0;
        }

        return new CircleLossMeasurement
        {
            Loss = Reduction == Reduction.None ? loss : loss[0],
            PerSampleLoss = perSampleLoss,
            Mask = mask,
            ValidCount = valid,
            Gradient = gradient,
            ReferenceGradient = referenceGradient,
            Backend = circle.Backend,
            BackendDescription = circle.Description,
            FallbackReason = circle.FallbackReason,
            Reduction = Reduction,
            GradientMode = GradientMode,
            Precision = Precision,
            Gamma = Gamma,
            Margin = Margin,
            RemoveDiagonal = RemoveDiagonal,
            Count = n,
            ReferenceCount = m,
            Dimension = dimension,
            BatchIndex = batch,
            FirstRow = start,
        };
    }

    // --------------------------------------------------------------------------------------------
    // Helpers.
    // --------------------------------------------------------------------------------------------

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(ErrorRecord record) => ThrowTerminatingError(record);

    private static object? GetProperty(PSObject input, string name, out bool found)
    {
        if (input.BaseObject is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                if (entry.Key is string key && string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                {
                    found = true;
                    return entry.Value;
                }
            }

            found = false;
            return null;
        }

        PSPropertyInfo? property = input.Properties[name];
        found = property is not null;
        return property?.Value;
    }

    private static string Describe(PSObject input)
    {
        string text = input.BaseObject is PSCustomObject || input.BaseObject is IDictionary
            ? string.Join(", ", GetNames(input))
            : input.BaseObject.GetType().Name;
        return text.Length > 80 ? text[..80] + "..." : text.Length == 0 ? "no properties" : text;
    }

    private static IEnumerable<string> GetNames(PSObject input)
    {
        if (input.BaseObject is IDictionary dictionary)
        {
            foreach (object key in dictionary.Keys)
            {
                yield return key.ToString() ?? "";
            }

            yield break;
        }

        foreach (PSPropertyInfo property in input.Properties)
        {
            yield return property.Name;
        }
    }

    private static T[] Slice<T>(T[] array, int start, int count) =>
        start == 0 && count == array.Length ? array : array.AsSpan(start, count).ToArray();

    private static double[,] ToMatrix(double[][] rows, int dimension)
    {
        var matrix = new double[rows.Length, dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                matrix[i, j] = rows[i][j];
            }
        }

        return matrix;
    }

    private static float[,] ToSingleMatrix(double[][] rows, int dimension)
    {
        var matrix = new float[rows.Length, dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                matrix[i, j] = (float)rows[i][j];
            }
        }

        return matrix;
    }

    private static float[]? ToSingle(double[]? values) => values is null ? null : Array.ConvertAll(values, v => (float)v);

    private static double[][] ToJagged(double[,] matrix)
    {
        int rows = matrix.GetLength(0);
        int columns = matrix.GetLength(1);
        var result = new double[rows][];
        for (int i = 0; i < rows; i++)
        {
            var row = new double[columns];
            for (int j = 0; j < columns; j++)
            {
                row[j] = matrix[i, j];
            }

            result[i] = row;
        }

        return result;
    }

    private static double[][] ToJagged(float[,] matrix)
    {
        int rows = matrix.GetLength(0);
        int columns = matrix.GetLength(1);
        var result = new double[rows][];
        for (int i = 0; i < rows; i++)
        {
            var row = new double[columns];
            for (int j = 0; j < columns; j++)
            {
                row[j] = matrix[i, j];
            }

            result[i] = row;
        }

        return result;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
