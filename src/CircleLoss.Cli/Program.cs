using System;
using Spectre.Console;

namespace CircleLoss.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        IAnsiConsole console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // A log or a pipe has no width: lines (paths, messages) stay whole instead of wrapping at 80 columns.
            console.Profile.Width = RedirectedWidth;
        }

        return CliApp.Run(args, console, Console.Out, Console.Error);
    }

    private const int RedirectedWidth = 4096;
}
