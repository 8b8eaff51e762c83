using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace CircleLoss.Cli.Tests;

/// <summary>The real executable, as a user runs it: exit codes and standard error.</summary>
public class ProcessTests
{
    private static (int ExitCode, string Output, string Error) RunTool(params string[] args) => RunToolWith(null, args);

    private static (int ExitCode, string Output, string Error) RunToolWith(string? nativePath, params string[] args)
    {
        string assembly = typeof(CliApp).Assembly.Location;
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (nativePath is not null)
        {
            start.Environment["CIRCLELOSS_NATIVE_PATH"] = nativePath;
        }

        start.ArgumentList.Add(assembly);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "the tool did not finish in 2 minutes");
        return (process.ExitCode, output.Result, error);
    }

    [Fact]
    public void Missing_data_file_exit_code_2_one_line_on_stderr()
    {
        (int code, _, string error) = RunTool("demo", "--data", "/nonexistent/data.csv");

        Assert.Equal(2, code);
        Assert.Equal("circleloss: the data file '/nonexistent/data.csv' does not exist.", error.TrimEnd());
    }

    [Fact]
    public void Bad_option_value_exit_code_2_one_line_on_stderr()
    {
        (int code, _, string error) = RunTool("bench", "--repeats", "many");

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("--repeats", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_native_library_exit_code_1_one_line_listing_what_was_tried()
    {
        (int code, _, string error) = RunToolWith("/nonexistent/libcircleloss.so", "info");

        Assert.Equal(1, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("circleloss: ", error, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/libcircleloss.so", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_redirected_prints_a_library_path_over_100_characters_whole()
    {
        CircleLoss.Interop.CircleLossLibrary.Initialize();
        using var temp = new TempDirectory();
        string folder = Path.Combine(temp.Path, string.Join('/', Enumerable.Repeat("a-long-folder-name-for-the-native-library", 3)));
        Directory.CreateDirectory(folder);
        string library = Path.Combine(folder, Path.GetFileName(CircleLoss.Interop.CircleLossLibrary.LibraryPath));
        File.Copy(CircleLoss.Interop.CircleLossLibrary.LibraryPath, library);
        Assert.True(library.Length > 100);

        (int code, string output, string error) = RunToolWith(library, "info");

        Assert.True(code == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"library path: {library}", lines);
    }

    [Fact]
    public void Demo_redirected_prints_the_written_files_whole_on_one_line_each()
    {
        using var temp = new TempDirectory();
        string output = Path.Combine(temp.Path, "a-folder-name-long-enough-that-the-paths-go-past-eighty-columns");

        (int code, string text, string error) = RunTool("demo", "--epochs", "1", "--backend", "cpu", "--output", output);

        Assert.True(code == 0, error);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        string training = $"Wrote {Path.Combine(output, "training.png")}";
        Assert.True(training.Length > 100);
        Assert.Contains(training, lines);
        Assert.Contains($"Wrote {Path.Combine(output, "embeddings.png")}", lines);
    }

    [Fact]
    public void Demo_redirected_prints_plain_epoch_lines()
    {
        using var temp = new TempDirectory();

        (int code, string output, string error) = RunTool("demo", "--epochs", "2", "--backend", "cpu", "--output", temp.Path);

        Assert.True(code == 0, error);
        Assert.Contains("epoch 1/2  loss ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "training.png")));
    }
}
