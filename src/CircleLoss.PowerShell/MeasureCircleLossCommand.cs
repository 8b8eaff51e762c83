using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

/// <summary>
/// <c>Measure-CircleLoss</c>: the Circle loss (Keras 3 <c>keras.losses.Circle</c>) of labelled embeddings, with
/// the output mask and, on request, the gradients. Input as arrays (-Label, -Embedding) or as pipeline objects
/// with Label and Embedding properties. Computes in float64 unless -Precision Single.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "CircleLoss", DefaultParameterSetName = ArraysSet)]
[OutputType(typeof(CircleLossMeasurement))]
public sealed partial class MeasureCircleLossCommand : PSCmdlet, IDisposable
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

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(ErrorRecord record) => ThrowTerminatingError(record);
}
