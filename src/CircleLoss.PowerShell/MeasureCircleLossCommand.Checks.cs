using System;
using System.Globalization;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

// The checks of what the library cannot see in flat arrays (jagged rows, counts), and the unit-norm warning.
public sealed partial class MeasureCircleLossCommand
{
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
}
