using System;
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
        var grid = new Grid();
        grid.AddColumn(new GridColumn().NoWrap().PadRight(2));
        grid.AddColumn();

        string toolVersion = typeof(InfoCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
        int plus = toolVersion.IndexOf('+', StringComparison.Ordinal);
        Add(grid, "circleloss", plus < 0 ? toolVersion : toolVersion[..plus]);
        Add(grid, "runtime", $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}), {Environment.ProcessorCount} hardware threads");

        // Loading the library throws CircleLossNativeLibraryException with every path tried: CliApp reports it.
        CircleLossLibrary.Initialize();
        Add(grid, "native library", $"{CircleLossLibrary.VersionString} (bindings {CircleLossLibrary.BindingsVersion})");
        Add(grid, "library path", CircleLossLibrary.LibraryPath);

        BackendAvailability cpu = CircleLossLibrary.QueryBackend(Backend.Cpu);
        Add(grid, "CPU backend", (cpu.IsAvailable ? "available: " : "unavailable: ") + cpu.Detail);
        if (cpu.IsAvailable)
        {
            using var session = new Circle(new CircleOptions { Backend = Backend.Cpu });
            Add(grid, "CPU threads", $"{session.ThreadCount} by default (CircleOptions.ThreadCount = 0: one per hardware thread); {session.Description}");
        }

        BackendAvailability cuda = CircleLossLibrary.QueryBackend(Backend.Cuda);
        Add(grid, "CUDA backend", (cuda.IsAvailable ? "available: " : "unavailable: ") + cuda.Detail);

        using (var auto = new Circle(new CircleOptions { Backend = Backend.Auto }))
        {
            Add(grid, "auto chooses", auto.Backend.ToString().ToUpperInvariant() + (auto.FallbackReason is null ? string.Empty : $" (fallback: {auto.FallbackReason})"));
        }

        string? overridePath = Environment.GetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable);
        Add(grid, CircleLossLibrary.NativeLibraryPathVariable, string.IsNullOrEmpty(overridePath) ? "(not set)" : overridePath);
        console.Write(grid);
    }

    private static void Add(Grid grid, string name, string value) =>
        grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
}
