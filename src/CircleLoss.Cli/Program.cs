using System;
using Spectre.Console;

namespace CircleLoss.Cli;

internal static class Program
{
    private static int Main(string[] args) => CliApp.Run(args, AnsiConsole.Console, Console.Out, Console.Error);
}
