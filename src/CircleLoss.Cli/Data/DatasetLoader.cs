using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace CircleLoss.Cli.Data;

/// <summary>
/// Reads labelled feature tables from CSV: one row per line, comma-separated; every column but the last is a
/// feature (a finite number, '.' as the decimal point), the last column is the label (an integer). A first line
/// that is not all numbers is a header and is skipped. Empty lines and lines starting with '#' are skipped.
/// Files ending in ".gz" (or starting with the gzip signature) are decompressed.
/// </summary>
internal static class DatasetLoader
{
    /// <summary>The name of the embedded digits resource (see Data/NOTICE.md).</summary>
    public const string DigitsResourceName = "CircleLoss.Cli.Data.digits.csv.gz";

    /// <summary>The attribution shown wherever the digits are used.</summary>
    public const string DigitsAttribution =
        "UCI optical recognition of handwritten digits (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0; doi:10.24432/C50P49)";

    /// <summary>The 1,797 UCI handwritten digits embedded in the tool: 64 pixel features (0..16) and the digit.</summary>
    public static Dataset LoadDigits()
    {
        using Stream? resource = typeof(DatasetLoader).Assembly.GetManifestResourceStream(DigitsResourceName);
        if (resource is null)
        {
            throw new InvalidOperationException($"The embedded resource {DigitsResourceName} is missing from the tool's assembly.");
        }

        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return Parse(reader, "digits (embedded)");
    }

    /// <summary>Reads a CSV file (gzip-compressed or not).</summary>
    /// <exception cref="DataFormatException">The file is missing, unreadable or malformed.</exception>
    public static Dataset LoadFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new DataFormatException("the data file path is empty.");
        }

        if (Directory.Exists(path))
        {
            throw new DataFormatException($"the data file '{path}' is a directory.");
        }

        if (!File.Exists(path))
        {
            throw new DataFormatException($"the data file '{path}' does not exist.");
        }

        try
        {
            using FileStream file = File.OpenRead(path);
            Stream stream = file;
            if (IsGzip(file))
            {
                stream = new GZipStream(file, CompressionMode.Decompress);
            }

            using (stream)
            using (var reader = new StreamReader(stream))
            {
                return Parse(reader, Path.GetFileName(path));
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"the data file '{path}' is not valid gzip: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"the data file '{path}' cannot be read: {e.Message}");
        }
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.Read(magic);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="DataFormatException">The text is malformed (the message gives the line).</exception>
    public static Dataset Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var features = new List<double>();
        var labels = new List<int>();
        int columns = -1;
        int lineNumber = 0;
        bool sawFirstLine = false;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                continue;
            }

            string[] fields = trimmed.Split(',');
            if (!sawFirstLine)
            {
                sawFirstLine = true;
                if (IsHeader(fields))
                {
                    if (fields.Length < 2)
                    {
                        throw new DataFormatException($"{source}, line {lineNumber}: a row needs at least one feature column and a label column.");
                    }

                    columns = fields.Length;
                    continue;
                }
            }

            if (fields.Length < 2)
            {
                throw new DataFormatException($"{source}, line {lineNumber}: a row needs at least one feature column and a label column (comma-separated), found {fields.Length} column.");
            }

            if (columns < 0)
            {
                columns = fields.Length;
            }
            else if (fields.Length != columns)
            {
                throw new DataFormatException($"{source}, line {lineNumber}: {fields.Length} columns where the earlier lines have {columns}.");
            }

            for (int c = 0; c < fields.Length - 1; c++)
            {
                string field = fields[c].Trim();
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                {
                    throw new DataFormatException($"{source}, line {lineNumber}, column {c + 1}: '{Shorten(field)}' is not a finite number.");
                }

                features.Add(value);
            }

            string labelField = fields[^1].Trim();
            if (!int.TryParse(labelField, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int label))
            {
                throw new DataFormatException($"{source}, line {lineNumber}: the label (last column) '{Shorten(labelField)}' is not an integer.");
            }

            labels.Add(label);
        }

        if (labels.Count == 0)
        {
            throw new DataFormatException($"{source}: no data rows.");
        }

        return new Dataset(source, features.ToArray(), columns - 1, labels.ToArray());
    }

    /// <summary>A first line is a header when one of its fields is not a number.</summary>
    private static bool IsHeader(string[] fields)
    {
        foreach (string field in fields)
        {
            if (!double.TryParse(field.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return true;
            }
        }

        return false;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");
}

/// <summary>A data file the user gave is missing or malformed (exit code 2).</summary>
internal sealed class DataFormatException : UsageException
{
    public DataFormatException(string message)
        : base(message)
    {
    }
}
