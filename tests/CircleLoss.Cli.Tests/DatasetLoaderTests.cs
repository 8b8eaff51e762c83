using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using CircleLoss.Cli.Data;
using Xunit;

namespace CircleLoss.Cli.Tests;

public class DatasetLoaderTests
{
    [Fact]
    public void Embedded_digits_are_the_1797_UCI_images()
    {
        Dataset digits = DatasetLoader.LoadDigits();

        Assert.Equal(1797, digits.Count);
        Assert.Equal(64, digits.FeatureCount);
        Assert.Equal(Enumerable.Range(0, 10), digits.Classes());
        Assert.All(digits.Features, v => Assert.InRange(v, 0, 16));
        Assert.All(digits.Features, v => Assert.Equal(Math.Round(v), v));
        // Per-class counts documented for this data set (the UCI test set).
        int[] expected = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];
        Assert.Equal(expected, Enumerable.Range(0, 10).Select(c => digits.Labels.Count(l => l == c)));
        // The first image: a zero.
        Assert.Equal(0, digits.Labels[0]);
        Assert.Equal(new double[] { 0, 0, 5, 13, 9, 1, 0, 0 }, digits.Row(0)[..8].ToArray());
    }

    [Fact]
    public void Csv_without_header_last_column_is_the_label()
    {
        Dataset data = DatasetLoader.Parse(new StringReader("1,2.5,3\n-4,5e-1,7\n\n# comment\n0,0,-2\n"), "t");

        Assert.Equal(3, data.Count);
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal(new[] { 3, 7, -2 }, data.Labels);
        Assert.Equal(new[] { 1, 2.5, -4, 0.5, 0, 0 }, data.Features);
    }

    [Fact]
    public void Csv_header_line_is_skipped()
    {
        Dataset data = DatasetLoader.Parse(new StringReader("width, height ,label\r\n1,2,0\r\n3,4,1\r\n"), "t");

        Assert.Equal(2, data.Count);
        Assert.Equal(new[] { 0, 1 }, data.Labels);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, data.Features);
    }

    [Fact]
    public void Gzip_and_plain_files_read_the_same()
    {
        using var temp = new TempDirectory();
        const string text = "f1,f2,y\n0.5,1,3\n2,3,4\n";
        File.WriteAllText(temp.File("plain.csv"), text);
        using (FileStream file = File.Create(temp.File("packed.csv.gz")))
        using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        using (var writer = new StreamWriter(gzip))
        {
            writer.Write(text);
        }

        Dataset plain = DatasetLoader.LoadFile(temp.File("plain.csv"));
        Dataset packed = DatasetLoader.LoadFile(temp.File("packed.csv.gz"));

        Assert.Equal(plain.Features, packed.Features);
        Assert.Equal(plain.Labels, packed.Labels);
        Assert.Equal(new[] { 3, 4 }, plain.Labels);
    }

    [Theory]
    [InlineData("1,2,3\n4,5,cat\n", "line 2", "not an integer")]
    [InlineData("1,2,3\n4,5,1.5\n", "line 2", "not an integer")]
    [InlineData("1,2,3\n4,5\n", "line 2", "columns")]
    [InlineData("1,2,3\n4,x,1\n", "line 2, column 2", "not a finite number")]
    [InlineData("1,2,3\n4,NaN,1\n", "line 2, column 2", "not a finite number")]
    [InlineData("a,b,c\n1,2,3\n4,5,6\n7\n", "line 4", "at least one feature")]
    [InlineData("\n# only a comment\n", "no data rows", "")]
    [InlineData("a,b,label\n", "no data rows", "")]
    public void Malformed_csv_names_the_line(string text, string where, string what)
    {
        DataFormatException e = Assert.Throws<DataFormatException>(() => DatasetLoader.Parse(new StringReader(text), "mine.csv"));

        Assert.StartsWith("mine.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains(where, e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Missing_file_and_directory_are_user_errors()
    {
        using var temp = new TempDirectory();

        DataFormatException missing = Assert.Throws<DataFormatException>(() => DatasetLoader.LoadFile(temp.File("absent.csv")));
        DataFormatException folder = Assert.Throws<DataFormatException>(() => DatasetLoader.LoadFile(temp.Path));

        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Contains("is a directory", folder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_gzip_is_a_user_error()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("bad.csv.gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]);

        DataFormatException e = Assert.Throws<DataFormatException>(() => DatasetLoader.LoadFile(temp.File("bad.csv.gz")));

        Assert.Contains("bad.csv.gz", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_and_WhereClass_copy_the_chosen_rows()
    {
        var data = new Dataset("t", [1, 2, 3, 4, 5, 6], 2, [7, 8, 7]);

        Dataset sevens = data.WhereClass(new System.Collections.Generic.HashSet<int> { 7 }, "sevens");
        Dataset reordered = data.Select([2, 0], "r");

        Assert.Equal(new double[] { 1, 2, 5, 6 }, sevens.Features);
        Assert.Equal(new[] { 7, 7 }, sevens.Labels);
        Assert.Equal(new double[] { 5, 6, 1, 2 }, reordered.Features);
        Assert.Equal(new[] { 7, 7 }, reordered.Labels);
    }
}
