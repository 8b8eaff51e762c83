using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;

namespace CircleLoss.PowerShell;

/// <summary>A value that cannot be read as the number, label, vector or matrix it should be.</summary>
internal sealed class InputConversionException(string message) : Exception(message);

/// <summary>
/// Reads what scripts hand over (PowerShell arrays of boxed numbers, JSON objects, CSV strings, 2-D arrays)
/// as labels, vectors and matrices. Every failure is an <see cref="InputConversionException"/> whose message
/// says where the bad value is; the caller adds which parameter it came from.
/// </summary>
internal static class InputConversion
{
    private static readonly char[] Separators = [' ', '\t', ',', ';', '\r', '\n'];

    /// <summary>Strips PowerShell's wrapper.</summary>
    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>A label: an integer, an integral floating-point number, or a string holding one.</summary>
    public static int ToLabel(object? value, string where)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null:
                throw new InputConversionException($"{where} is null: a label must be an integer.");
            case int i:
                return i;
            case long or short or sbyte or byte or ushort or uint or ulong:
                return ToInt32(Convert.ToDecimal(value, CultureInfo.InvariantCulture), value, where);
            case double or float or decimal:
            {
                double d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (!double.IsFinite(d) || Math.Floor(d) != d)
                {
                    throw new InputConversionException($"{where} is {Format(value)}: a label must be an integer.");
                }

                return ToInt32((decimal)d, value, where);
            }

            case string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed):
                return ToInt32(parsed, value, where);
            case string s:
                throw new InputConversionException($"{where} is '{s}': a label must be an integer.");
            default:
                throw new InputConversionException($"{where} is a {value.GetType().Name} ({Format(value)}): a label must be an integer.");
        }
    }

    private static int ToInt32(decimal value, object original, string where)
    {
        if (value < int.MinValue || value > int.MaxValue)
        {
            throw new InputConversionException($"{where} is {Format(original)}: a label must fit in a 32-bit integer.");
        }

        return (int)value;
    }

    /// <summary>All the labels of a collection (or of a single value).</summary>
    public static int[] ToLabels(object? value, string where)
    {
        value = Unwrap(value);
        if (value is int[] ints)
        {
            return ints;
        }

        if (IsCollection(value))
        {
            var labels = new List<int>();
            int index = 0;
            foreach (object? item in (IEnumerable)value!)
            {
                labels.Add(ToLabel(item, $"{where}[{index}]"));
                index++;
            }

            return labels.ToArray();
        }

        return [ToLabel(value, where)];
    }

    /// <summary>A number, finite or not (the finiteness is checked where the parameter is known).</summary>
    public static double ToNumber(object? value, string where)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null:
                throw new InputConversionException($"{where} is null: expected a number.");
            case double d:
                return d;
            case float f:
                return f;
            case int or long or short or sbyte or byte or ushort or uint or ulong or decimal:
                return Convert.ToDouble(value, CultureInfo.InvariantCulture);
            case string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed):
                return parsed;
            case string s:
                throw new InputConversionException($"{where} is '{s}': expected a number.");
            case bool:
                throw new InputConversionException($"{where} is a Boolean: expected a number.");
            default:
                throw new InputConversionException($"{where} is a {value.GetType().Name}: expected a number.");
        }
    }

    /// <summary>
    /// A vector: a collection of numbers, a single number (a vector of one), or a string of numbers separated
    /// by spaces, commas or semicolons (optionally in brackets), as a CSV column or a JSON text holds them.
    /// </summary>
    public static double[] ToVector(object? value, string where)
    {
        value = Unwrap(value);
        switch (value)
        {
            case double[] doubles:
                return (double[])doubles.Clone();
            case float[] floats:
                return Array.ConvertAll(floats, f => (double)f);
            case string s:
                return ParseVector(s, where);
            case null:
                throw new InputConversionException($"{where} is null: expected a vector of numbers.");
        }

        if (IsCollection(value))
        {
            var result = new List<double>();
            int index = 0;
            foreach (object? item in (IEnumerable)value)
            {
                object? element = Unwrap(item);
                if (IsCollection(element))
                {
                    throw new InputConversionException($"{where}[{index}] is a collection: expected a number.");
                }

                result.Add(ToNumber(element, $"{where}[{index}]"));
                index++;
            }

            return result.ToArray();
        }

        return [ToNumber(value, where)];
    }

    private static double[] ParseVector(string text, string where)
    {
        string trimmed = text.Trim();
        if (trimmed.StartsWith('[') && trimmed.EndsWith(']'))
        {
            trimmed = trimmed[1..^1];
        }

        string[] parts = trimmed.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new InputConversionException($"{where} is an empty string: expected numbers separated by spaces, commas or semicolons.");
        }

        var result = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]))
            {
                throw new InputConversionException(
                    $"{where} holds '{parts[i]}' at position {i}: expected numbers separated by spaces, commas or semicolons (invariant culture, '.' as the decimal point).");
            }
        }

        return result;
    }

    /// <summary>
    /// A matrix as rows: a collection of row vectors (each as <see cref="ToVector"/> reads it), or a 2-D array.
    /// The rows are not checked for equal length here.
    /// </summary>
    public static double[][] ToMatrix(object? value, string where)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null:
                throw new InputConversionException($"{where} is null: expected a matrix (a collection of rows).");
            case double[][] jagged:
                return Array.ConvertAll(jagged, row => row is null
                    ? throw new InputConversionException($"{where} has a null row: expected a vector of numbers.")
                    : (double[])row.Clone());
            case Array { Rank: 2 } array:
            {
                int rows = array.GetLength(0);
                int columns = array.GetLength(1);
                var result = new double[rows][];
                for (int i = 0; i < rows; i++)
                {
                    result[i] = new double[columns];
                    for (int j = 0; j < columns; j++)
                    {
                        result[i][j] = ToNumber(array.GetValue(i, j), $"{where}[{i},{j}]");
                    }
                }

                return result;
            }

            case string s:
                // One row given as text.
                return [ParseVector(s, where)];
        }

        if (!IsCollection(value))
        {
            return [[ToNumber(value, where)]];
        }

        var matrix = new List<double[]>();
        int index = 0;
        foreach (object? row in (IEnumerable)value)
        {
            matrix.Add(ToVector(row, $"{where}[{index}]"));
            index++;
        }

        return matrix.ToArray();
    }

    /// <summary>Whether a value is a collection of values (not a string, not a dictionary).</summary>
    public static bool IsCollection(object? value) =>
        value is IEnumerable and not string and not IDictionary;

    private static string Format(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? value.GetType().Name;
}

/// <summary>Binds a matrix parameter from rows (arrays, JSON arrays, strings of numbers) or a 2-D array.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class MatrixTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc />
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        try
        {
            return InputConversion.ToMatrix(inputData, "value");
        }
        catch (InputConversionException e)
        {
            throw new ArgumentTransformationMetadataException(e.Message, e);
        }
    }
}

/// <summary>Binds labels from integers, integral numbers or strings holding integers; refuses 2.5 instead of rounding it.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class LabelTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc />
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        try
        {
            return InputConversion.ToLabels(inputData, "value");
        }
        catch (InputConversionException e)
        {
            throw new ArgumentTransformationMetadataException(e.Message, e);
        }
    }
}

/// <summary>Binds a vector parameter from numbers, a collection of numbers, or a string of numbers.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class VectorTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc />
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        try
        {
            return InputConversion.ToVector(inputData, "value");
        }
        catch (InputConversionException e)
        {
            throw new ArgumentTransformationMetadataException(e.Message, e);
        }
    }
}
