using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using CircleLoss.Cli.Commands;
using CircleLoss.Interop;
using Spectre.Console;

namespace CircleLoss.Cli;

/// <summary>
/// The <c>circleloss</c> command line: <c>demo</c>, <c>info</c> and <c>bench</c>. Exit codes: 0 success,
/// 1 a failure of the tool or the native library, 2 an error the user caused (a bad option, a missing or
/// malformed data file, an unusable backend asked for by name); every error is one line on standard error,
/// never a stack trace (set <c>CIRCLELOSS_DEBUG=1</c> to get one for unexpected failures).
/// </summary>
internal static class CliApp
{
    public const int SuccessExitCode = 0;
    public const int FailureExitCode = 1;
    public const int UsageExitCode = 2;

    /// <summary>Runs the tool. <paramref name="console"/> receives the normal output, <paramref name="output"/>
    /// the help text, <paramref name="error"/> the one-line error messages.</summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var root = new RootCommand(
            "circleloss: Circle Loss (Keras 3 semantics) through the native CircleLoss library.\n" +
            "  demo   train an embedding with Circle Loss on the bundled handwritten digits and watch retrieval improve\n" +
            "  info   the native library, its version and path, the backends and why one is unavailable\n" +
            "  bench  time forward+backward on random data")
        {
            DemoCommand.Create(console),
            InfoCommand.Create(console),
            BenchCommand.Create(console),
        };

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            string command = parse.CommandResult.Command == root ? "circleloss" : $"circleloss {parse.CommandResult.Command.Name}";
            // "Required command was not provided" says less than an unrecognised word next to it: report that first.
            string message = parse.Errors.Select(e => e.Message).OrderBy(m => m.StartsWith("Required command", StringComparison.Ordinal) ? 1 : 0).First();
            error.WriteLine($"circleloss: {OneLine(message)} (see '{command} --help')");
            return UsageExitCode;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"circleloss: {OneLine(e.Message)}");
            return UsageExitCode;
        }
        catch (CircleLossNativeLibraryException e)
        {
            // The loader's message lists every path tried and the likely causes.
            error.WriteLine($"circleloss: {OneLine(e.Message)}");
            return FailureExitCode;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("CIRCLELOSS_DEBUG") is null or "" or "0")
        {
            error.WriteLine($"circleloss: {e.GetType().Name}: {OneLine(e.Message)} (set CIRCLELOSS_DEBUG=1 for the stack trace)");
            return FailureExitCode;
        }
    }

    /// <summary>A message on one line (newlines and runs of spaces folded).</summary>
    internal static string OneLine(string message)
    {
        string[] parts = message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(' ', parts);
    }
}
