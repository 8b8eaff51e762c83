using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

// The computation batch by batch, the measurement objects, and the conversions between PowerShell's
// arrays and the façade's.
public sealed partial class MeasureCircleLossCommand
{
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
        CircleResult<double> result = circle.Compute(labels, ToMatrix<double>(rows, dimension), IncludeGradient.IsPresent, weights,
            refLabels, refRows is null ? null : ToMatrix<double>(refRows, dimension), upstream);
        return Build(circle, result.Loss, result.PerSampleLoss, result.Mask,
            result.GradEmbeddings is null ? null : ToJagged(result.GradEmbeddings),
            result.GradRefEmbeddings is null ? null : ToJagged(result.GradRefEmbeddings),
            labels.Length, refRows?.Length ?? refLabels?.Length ?? labels.Length, dimension, batch, start);
    }

    private CircleLossMeasurement ComputeSingle(Circle circle, int[] labels, double[][] rows, int dimension, double[]? weights,
        int[]? refLabels, double[][]? refRows, double[]? upstream, int batch, int start)
    {
        CircleResult<float> result = circle.Compute(labels, ToMatrix<float>(rows, dimension), IncludeGradient.IsPresent, ToSingle(weights),
            refLabels, refRows is null ? null : ToMatrix<float>(refRows, dimension), ToSingle(upstream));
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

    private static T[,] ToMatrix<T>(double[][] rows, int dimension)
        where T : INumberBase<T>
    {
        var matrix = new T[rows.Length, dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                matrix[i, j] = T.CreateChecked(rows[i][j]);
            }
        }

        return matrix;
    }

    private static float[]? ToSingle(double[]? values) => values is null ? null : Array.ConvertAll(values, v => (float)v);

    private static double[][] ToJagged<T>(T[,] matrix)
        where T : INumberBase<T>
    {
        int rows = matrix.GetLength(0);
        int columns = matrix.GetLength(1);
        var result = new double[rows][];
        for (int i = 0; i < rows; i++)
        {
            var row = new double[columns];
            for (int j = 0; j < columns; j++)
            {
                row[j] = double.CreateChecked(matrix[i, j]);
            }

            result[i] = row;
        }

        return result;
    }
}
