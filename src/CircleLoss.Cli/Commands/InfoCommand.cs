using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using CircleLoss.Interop;
using Spectre.Console;

namespace CircleLoss.Cli.Commands;

/// <summary><c>circleloss info</c>: what the tool runs on.</summary>
internal static class InfoCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var command = new Command("info",
            "The native library's version and path, the backends it can use here (CPU features, threads, CUDA devices) and why one is unavailable.");
        command.SetAction(_ =>
        {
            Run(console);
            return CliApp.SuccessExitCode;
        });
        return command;
    }

    internal static void Run(IAnsiConsole console)
    {
        var rows = new List<(string Name, string Value)>();
        string toolVersion = typeof(InfoCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
        int plus = toolVersion.IndexOf('+', StringComparison.Ordinal);
        rows.Add(("circleloss", plus < 0 ? toolVersion : toolVersion[..plus]));
        rows.Add(("runtime", $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}), {Environment.ProcessorCount} hardware threads"));

        // Loading the library throws CircleLossNativeLibraryException with every path tried: CliApp reports it.
        CircleLossLibrary.Initialize();
        rows.Add(("native library", $"{CircleLossLibrary.VersionString} (bindings {CircleLossLibrary.BindingsVersion})"));
        rows.Add(("library path", CircleLossLibrary.LibraryPath));

        BackendAvailability cpu = CircleLossLibrary.QueryBackend(Backend.Cpu);
        rows.Add(("CPU backend", (cpu.IsAvailable ? "available: " : "unavailable: ") + cpu.Detail));
        if (cpu.IsAvailable)
        {
            using var session = new Circle(new CircleOptions { Backend = Backend.Cpu });
            rows.Add(("CPU threads", $"{session.ThreadCount} by default (CircleOptions.ThreadCount = 0: one per hardware thread); {session.Description}"));
        }

        BackendAvailability cuda = CircleLossLibrary.QueryBackend(Backend.Cuda);
        rows.Add(("CUDA backend", (cuda.IsAvailable ? "available: " : "unavailable: ") + cuda.Detail));

        using (var auto = new Circle(new CircleOptions { Backend = Backend.Auto }))
        {
            rows.Add(("auto chooses", auto.Backend.ToString().ToUpperInvariant() + (auto.FallbackReason is null ? string.Empty : $" (fallback: {auto.FallbackReason})")));
        }

        string? overridePath = Environment.GetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable);
        rows.Add((CircleLossLibrary.NativeLibraryPathVariable, string.IsNullOrEmpty(overridePath) ? "(not set)" : overridePath));
        Render(console, rows);
    }

    /// <summary>
    /// A two-column table on a terminal wide enough for every row; otherwise (output redirected to a file or
    /// a pipe, or a narrow terminal) one <c>name: value</c> line per row, written past the console's
    /// wrapping, so that a path or message copied out of a log is whole.
    /// </summary>
    internal static void Render(IAnsiConsole console, IReadOnlyList<(string Name, string Value)> rows)
    {
        int nameWidth = rows.Max(r => r.Name.Length);
        bool fits = rows.All(r => nameWidth + NameGap + r.Value.Length <= console.Profile.Width);
        if (console.Profile.Out.IsTerminal && fits)
        {
            var grid = new Grid();
            grid.AddColumn(new GridColumn().NoWrap().PadRight(NameGap));
            grid.AddColumn(new GridColumn().NoWrap());
            foreach ((string name, string value) in rows)
            {
                grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
            }

            console.Write(grid);
            return;
        }

        TextWriter writer = console.Profile.Out.Writer;
        foreach ((string name, string value) in rows)
        {
            writer.WriteLine($"{name}: {value}");
        }

        writer.Flush();
    }

    private const int NameGap = 2;
}
