using System;
using System.Management.Automation;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

/// <summary>
/// Binds -Reduction from the enum's names (SumOverBatchSize) or Keras's names (sum_over_batch_size), so
/// values read from a Keras config or a golden case work as they are.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ReductionTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc />
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? value = InputConversion.Unwrap(inputData);
        if (value is string text && ReductionNames.TryParse(text, out Reduction reduction))
        {
            return reduction;
        }

        return inputData; // numbers and enum values: PowerShell's own conversion (and its error message)
    }
}

/// <summary>The reductions' names: the enum's and Keras's.</summary>
internal static class ReductionNames
{
    public static readonly (Reduction Value, string Keras, string Description)[] All =
    [
        (Reduction.SumOverBatchSize, "sum_over_batch_size", "Keras's default: the sum over the rows whose loss is positive, divided by their count."),
        (Reduction.Mean, "mean", "The same as SumOverBatchSize."),
        (Reduction.Sum, "sum", "The sum of w_i * l_i over the rows whose loss is positive."),
        (Reduction.MeanWithSampleWeight, "mean_with_sample_weight", "The weighted sum divided by the sum of the weights of the rows whose loss is positive."),
        (Reduction.None, "none", "No reduction: one loss w_i * l_i per row."),
    ];

    public static bool TryParse(string text, out Reduction reduction)
    {
        string key = text.Trim();
        foreach (var entry in All)
        {
            if (string.Equals(key, entry.Value.ToString(), StringComparison.OrdinalIgnoreCase)
                || string.Equals(key, entry.Keras, StringComparison.OrdinalIgnoreCase))
            {
                reduction = entry.Value;
                return true;
            }
        }

        reduction = default;
        return false;
    }
}
