using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using CircleLoss.Cli.Commands;
using CircleLoss.Cli.Plotting;
using CircleLoss.Cli.Training;
using CircleLoss.Interop;
using Xunit;

namespace CircleLoss.Cli.Tests;

public class CliTests
{
    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 8 + 25, $"{path} is too small for a PNG");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    private static void AssertUsageError(CliRun run, string expected)
    {
        Assert.Equal(CliApp.UsageExitCode, run.ExitCode);
        string line = run.Error.TrimEnd('\r', '\n');
        Assert.StartsWith("circleloss: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public void Demo_prints_rising_recall_and_writes_readable_pngs()
    {
        using var temp = new TempDirectory();
        string output = temp.File("plots");

        CliRun run = Cli.Run("demo", "--epochs", "4", "--backend", "cpu", "--output", output);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Error);
        Assert.Contains("epoch 1/4", run.Console, StringComparison.Ordinal);
        Assert.Contains("epoch 4/4", run.Console, StringComparison.Ordinal);
        Assert.Contains("Recall@1", run.Console, StringComparison.Ordinal);
        Assert.Contains("CC BY 4.0", run.Console, StringComparison.Ordinal);
        // What is trained on and held out is said before training starts.
        Assert.True(run.Console.IndexOf("Split:", StringComparison.Ordinal) < run.Console.IndexOf("epoch 1/4", StringComparison.Ordinal));
        Assert.Contains("539 held-out rows", run.Console, StringComparison.Ordinal);
        Assert.Equal((1100, 650), PngSize(Path.Combine(output, DemoPlots.TrainingFileName)));
        Assert.Equal((1600, 700), PngSize(Path.Combine(output, DemoPlots.EmbeddingsFileName)));
        Assert.True(new FileInfo(Path.Combine(output, DemoPlots.EmbeddingsFileName)).Length > 20_000);
    }

    [Fact]
    public void Demo_live_progress_bar_on_an_interactive_terminal()
    {
        var console = new CapturedConsole(interactive: true);

        DemoResult result = DemoCommand.Run(console.Console, new DemoSettings { Epochs = 3, Backend = Backend.Cpu }, null, null);

        Assert.Equal(3, result.LossPerEpoch.Length);
        Assert.Contains("epoch 3/3", console.Text, StringComparison.Ordinal);
        Assert.Contains("\u001b[", console.Text, StringComparison.Ordinal); // ANSI: the live display
        Assert.Contains("━", console.Text, StringComparison.Ordinal); // the bar
    }

    [Fact]
    public void Demo_on_a_user_csv_with_header()
    {
        using var temp = new TempDirectory();
        // Four well separated Gaussian clusters in 6 dimensions, 40 rows each.
        var random = new Random(4);
        var text = new StringBuilder("a,b,c,d,e,f,label\n");
        for (int i = 0; i < 160; i++)
        {
            int label = i % 4;
            double[] row = Enumerable.Range(0, 6).Select(j => (j == label ? 3.0 : 0.0) + 0.7 * EmbeddingModel.Gaussian(random)).ToArray();
            text.Append(string.Join(",", row.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))).Append(',').Append(label + 10).Append('\n');
        }

        File.WriteAllText(temp.File("mine.csv"), text.ToString());

        CliRun run = Cli.Run("demo", "--data", temp.File("mine.csv"), "--epochs", "3", "--batch-size", "32", "--no-plots", "--backend", "cpu");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("mine.csv: 160 rows of 6 features, 4 classes", run.Console, StringComparison.Ordinal);
        Assert.Contains("classes 10,11,12,13", run.Console, StringComparison.Ordinal);
        Assert.Contains("Recall@1", run.Console, StringComparison.Ordinal);
        Assert.DoesNotContain("Wrote ", run.Console, StringComparison.Ordinal); // --no-plots
    }

    [Fact]
    public void Demo_missing_data_file_is_exit_2()
    {
        AssertUsageError(Cli.Run("demo", "--data", "/nonexistent/digits.csv"), "does not exist");
    }

    [Fact]
    public void Demo_non_integer_label_is_exit_2()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("bad.csv"), "1,2,0\n3,4,zero\n");

        AssertUsageError(Cli.Run("demo", "--data", temp.File("bad.csv")), "line 2: the label (last column) 'zero' is not an integer");
    }

    [Fact]
    public void Demo_too_few_classes_is_exit_2()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("one.csv"), "1,2,0\n3,4,0\n5,6,0\n");

        AssertUsageError(Cli.Run("demo", "--data", temp.File("one.csv"), "--no-plots"), "needs at least 2");
    }

    [Theory]
    [InlineData(new[] { "demo", "--epochs", "abc" }, "--epochs")]
    [InlineData(new[] { "demo", "--epochs", "0" }, "--epochs must be at least 1")]
    [InlineData(new[] { "demo", "--gamma", "-3" }, "--gamma")]
    [InlineData(new[] { "demo", "--backend", "gpu" }, "gpu")]
    [InlineData(new[] { "demo", "--gradient-mode", "autodiff" }, "autodiff")]
    [InlineData(new[] { "demo", "--split", "random" }, "random")]
    [InlineData(new[] { "demo", "--test-classes", "7,8" }, "--test-classes needs the classes split")]
    [InlineData(new[] { "demo", "--epochs", "0" }, "--epochs must be at least 1 (got 0).")]
    [InlineData(new[] { "demo", "--split", "classes", "--test-classes", "42,43" }, "--test-classes lists 42,43, not among the labels")]
    [InlineData(new[] { "demo", "--split", "classes", "--test-classes", "7,x" }, "'x' is not an integer")]
    [InlineData(new[] { "demo", "--split", "classes", "--test-classes", "42,43" }, "not among the labels")]
    [InlineData(new[] { "demo", "--test-fraction", "1.5" }, "--test-fraction")]
    [InlineData(new[] { "demo", "--frobnicate" }, "--frobnicate")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new string[0], "circleloss --help")]
    [InlineData(new[] { "bench", "-n", "1" }, "-n and -m must be at least 2")]
    [InlineData(new[] { "bench", "--mode", "sideways" }, "sideways")]
    [InlineData(new[] { "bench", "--threads", "-1" }, "--threads: config->num_threads must be in [0, 4096] (got -1)")]
    [InlineData(new[] { "bench", "--gamma", "0" }, "--gamma: options->gamma must be finite and > 0 (got 0)")]
    [InlineData(new[] { "demo", "--margin", "Infinity" }, "--margin: options->margin must be finite (got inf)")]
    public void Bad_options_are_one_line_and_exit_2(string[] args, string expected)
    {
        AssertUsageError(Cli.Run(args), expected);
    }

    [Fact]
    public void Output_folder_that_cannot_be_created_is_exit_2()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("file"), "not a folder");

        AssertUsageError(Cli.Run("demo", "--epochs", "1", "--backend", "cpu", "--output", temp.File("file")), "--output");
    }

    [Fact]
    public void Cuda_backend_asked_for_by_name_runs_or_is_exit_2()
    {
        CliRun run = Cli.Run("demo", "--epochs", "1", "--backend", "cuda", "--no-plots");

        if (CircleLossLibrary.QueryBackend(Backend.Cuda).IsAvailable)
        {
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("CUDA", run.Console, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            AssertUsageError(run, "--backend cuda");
        }
    }

    [Fact]
    public void Median_of_odd_and_even_counts()
    {
        Assert.Equal(2.0, BenchCommand.Median([3, 1, 2]));
        Assert.Equal(2.5, BenchCommand.Median([4, 1, 3, 2]));
    }

    [Fact]
    public void Help_lists_the_commands_and_options()
    {
        CliRun root = Cli.Run("--help");
        CliRun demo = Cli.Run("demo", "--help");

        Assert.Equal(0, root.ExitCode);
        Assert.Contains("demo", root.Help, StringComparison.Ordinal);
        Assert.Contains("bench", root.Help, StringComparison.Ordinal);
        Assert.Equal(0, demo.ExitCode);
        foreach (string option in new[] { "--backend", "--epochs", "--batch-size", "--gamma", "--margin", "--gradient-mode", "--seed", "--output", "--data" })
        {
            Assert.Contains(option, demo.Help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Info_reports_library_path_and_backends()
    {
        CliRun run = Cli.Run("info");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(CircleLossLibrary.VersionString, run.Console, StringComparison.Ordinal);
        Assert.Contains(CircleLossLibrary.LibraryPath, run.Console, StringComparison.Ordinal);
        Assert.Contains("CPU backend", run.Console, StringComparison.Ordinal);
        Assert.Contains("CUDA backend", run.Console, StringComparison.Ordinal);
        Assert.Contains(CircleLossLibrary.QueryBackend(Backend.Cuda).Detail, run.Console, StringComparison.Ordinal);
    }

    private static readonly (string Name, string Value)[] InfoRows =
    [
        ("native library", "1.2.3 (bindings 1.2.3)"),
        ("library path", "/" + string.Join('/', Enumerable.Repeat("a-rather-long-folder-name", 6)) + "/libcircleloss.so"),
        ("CUDA backend", "unavailable: no CUDA device found (the driver reports none)"),
    ];

    [Theory]
    [InlineData(80)]
    [InlineData(200)]
    public void Info_redirected_prints_every_value_whole_on_one_line(int width)
    {
        Assert.True(InfoRows[1].Value.Length > 100);
        var console = new CapturedConsole(width: width);

        InfoCommand.Render(console.Console, InfoRows);

        string[] lines = console.Text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InfoRows.Select(r => $"{r.Name}: {r.Value}"), lines);
    }

    [Fact]
    public void Info_on_a_narrow_terminal_prints_lines_instead_of_a_wrapped_table()
    {
        var console = new CapturedConsole(interactive: true, terminal: true, width: 40);

        InfoCommand.Render(console.Console, InfoRows);

        string[] lines = console.Text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"library path: {InfoRows[1].Value}", lines);
    }

    [Fact]
    public void Info_on_a_wide_terminal_prints_a_table()
    {
        var console = new CapturedConsole(terminal: true, width: 250);

        InfoCommand.Render(console.Console, InfoRows);

        string[] lines = console.Text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InfoRows.Length, lines.Length);
        // Names padded to one column, each value whole on its row.
        int column = lines[0].IndexOf(InfoRows[0].Value, StringComparison.Ordinal);
        Assert.All(InfoRows.Zip(lines), pair =>
        {
            Assert.StartsWith(pair.First.Name, pair.Second, StringComparison.Ordinal);
            Assert.Equal(column, pair.Second.IndexOf(pair.First.Value, StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Bench_times_both_modes()
    {
        var console = new CapturedConsole();

        var results = BenchCommand.Run(console.Console, new BenchSettings { Queries = 96, References = 64, Dimension = 16, Classes = 5, Repeats = 3, Backend = Backend.Cpu });

        Assert.Equal(new[] { "self", "reference" }, results.Select(r => r.Mode));
        Assert.Equal(3.0 * 96 * 96 * 16, results[0].ProductFlops);
        Assert.Equal(6.0 * 96 * 64 * 16, results[1].ProductFlops);
        Assert.All(results, r => Assert.True(r.MedianSeconds > 0 && r.MinSeconds <= r.MedianSeconds && r.Loss > 0));
        // CPU sessions: the library times the bare products, and the ratio is the call's time over theirs.
        Assert.All(results, r => Assert.True(r.FloorMedianSeconds > 0 && double.IsFinite(r.FloorRatio)));
        Assert.Contains("× floor", console.Text, StringComparison.Ordinal);
        Assert.Equal(0, Cli.Run("bench", "-n", "64", "-m", "32", "-d", "8", "--repeats", "1", "--mode", "reference", "--precision", "float64").ExitCode);
    }
}
