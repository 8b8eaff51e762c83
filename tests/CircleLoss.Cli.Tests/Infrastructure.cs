using System;
using System.IO;
using Spectre.Console;

namespace CircleLoss.Cli.Tests;

/// <summary>A Spectre console writing plain text (or ANSI, for the live progress bar) into a string.</summary>
internal sealed class CapturedConsole
{
    private readonly StringWriter _writer = new();

    /// <param name="interactive">ANSI, colours and interaction, as on a terminal.</param>
    /// <param name="terminal">Whether the output claims to be a terminal (a redirected stream does not).</param>
    /// <param name="width">The console's width in columns.</param>
    public CapturedConsole(bool interactive = false, bool terminal = false, int width = 200)
    {
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = terminal ? new TerminalOutput(_writer, width) : new AnsiConsoleOutput(_writer),
        });
        Console.Profile.Width = width;
    }

    /// <summary>An output that says it is a terminal of a given width.</summary>
    private sealed class TerminalOutput(TextWriter writer, int width) : IAnsiConsoleOutput
    {
        public TextWriter Writer { get; } = writer;

        public bool IsTerminal => true;

        public int Width { get; } = width;

        public int Height => 24;

        public void SetEncoding(System.Text.Encoding encoding)
        {
        }
    }

    public IAnsiConsole Console { get; }

    public string Text => _writer.ToString();
}

/// <summary>The result of one <see cref="CliApp.Run"/>.</summary>
internal sealed record CliRun(int ExitCode, string Console, string Help, string Error);

internal static class Cli
{
    /// <summary>Runs the tool in-process with captured output.</summary>
    public static CliRun Run(params string[] args)
    {
        var console = new CapturedConsole();
        using var help = new StringWriter();
        using var error = new StringWriter();
        int code = CliApp.Run(args, console.Console, help, error);
        return new CliRun(code, console.Text, help.ToString(), error.ToString());
    }
}

/// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "circleloss-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
