using System;
using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;

namespace CircleLoss.PowerShell;

/// <summary>
/// <c>ConvertTo-UnitEmbedding</c>: divides each row by its L2 norm, as the Circle loss expects (it scores cosine
/// similarities). A row of zeros stays zeros, with a warning.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "UnitEmbedding", DefaultParameterSetName = MatrixSet)]
[OutputType(typeof(double[][]), ParameterSetName = [MatrixSet])]
[OutputType(typeof(double[]), typeof(PSObject), ParameterSetName = [PipelineSet])]
public sealed class ConvertToUnitEmbeddingCommand : PSCmdlet
{
    private const string MatrixSet = "Matrix";
    private const string PipelineSet = "Pipeline";
    private int _row;

    /// <summary>Rows to normalise; written back as one matrix (an array of rows).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = MatrixSet)]
    [MatrixTransformation]
    [AllowEmptyCollection]
    public double[][] Embedding { get; set; } = [];

    /// <summary>One row per pipeline object: an array of numbers (written back as a normalised double[]), or an
    /// object with an Embedding property (written back as a copy with Embedding normalised).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PipelineSet)]
    public PSObject? InputObject { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName == MatrixSet)
        {
            var result = new double[Embedding.Length][];
            for (int i = 0; i < Embedding.Length; i++)
            {
                result[i] = Normalise(Embedding[i], $"-Embedding row {i}", nameof(Embedding));
            }

            WriteObject(result, enumerateCollection: false);
            return;
        }

        int row = _row++;
        object? input = InputObject?.BaseObject;
        if (input is null)
        {
            ThrowTerminatingError(Errors.InvalidInputObject("NullInputObject", $"Input object {row} is null: expected an array of numbers or an object with an Embedding property.", null));
        }

        try
        {
            if (input is IDictionary dictionary)
            {
                object? key = FindKey(dictionary, "Embedding")
                    ?? throw new InputConversionException($"Input object {row} has no Embedding key: expected an array of numbers or an object with an Embedding property.");
                var copy = new OrderedDictionary(dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                {
                    copy[entry.Key] = entry.Value;
                }

                copy[key] = Normalise(InputConversion.ToVector(dictionary[key], $"the Embedding of input object {row}"), $"input object {row}", "InputObject");
                WriteObject(copy);
            }
            else if (InputConversion.IsCollection(input) || input is string || IsNumber(input))
            {
                WriteObject(Normalise(InputConversion.ToVector(input, $"input object {row}"), $"input object {row}", "InputObject"), enumerateCollection: false);
            }
            else
            {
                PSPropertyInfo property = InputObject!.Properties["Embedding"]
                    ?? throw new InputConversionException($"Input object {row} ({input.GetType().Name}) has no Embedding property: expected an array of numbers or an object with an Embedding property.");
                PSObject copy = InputObject.Copy();
                double[] unit = Normalise(InputConversion.ToVector(property.Value, $"the Embedding of input object {row}"), $"input object {row}", "InputObject");
                copy.Properties[property.Name].Value = unit;
                WriteObject(copy);
            }
        }
        catch (InputConversionException e)
        {
            ThrowTerminatingError(Errors.InvalidInputObject("InvalidInputObject", e.Message, InputObject));
        }
    }

    private double[] Normalise(double[] row, string where, string parameter)
    {
        if (row.Length == 0)
        {
            ThrowTerminatingError(Errors.InvalidArgument("EmptyEmbedding", parameter, $"{where} is empty: a row needs at least one value."));
        }

        // Scale by the largest magnitude first, so that squaring neither overflows nor underflows.
        double scale = 0;
        for (int j = 0; j < row.Length; j++)
        {
            if (!double.IsFinite(row[j]))
            {
                ThrowTerminatingError(Errors.InvalidArgument("NonFiniteInput", parameter,
                    $"{where}, column {j} is {row[j]}: every value must be finite."));
            }

            scale = Math.Max(scale, Math.Abs(row[j]));
        }

        var result = new double[row.Length];
        if (scale == 0)
        {
            WriteWarning($"{where} is all zeros: it has no direction and is left as zeros.");
            return result;
        }

        double scaledSum = 0;
        foreach (double v in row)
        {
            double s = v / scale;
            scaledSum += s * s;
        }

        double norm = scale * Math.Sqrt(scaledSum);
        for (int j = 0; j < row.Length; j++)
        {
            result[j] = row[j] / norm;
        }

        return result;
    }

    private static object? FindKey(IDictionary dictionary, string name)
    {
        foreach (object key in dictionary.Keys)
        {
            if (key is string text && string.Equals(text, name, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    private static bool IsNumber(object value) =>
        value is double or float or decimal or int or long or short or sbyte or byte or ushort or uint or ulong;
}
