using System;
using System.CommandLine;
using System.Globalization;
using CircleLoss.Interop;

namespace CircleLoss.Cli.Commands;

/// <summary>Options several commands share, and their conversion to the library's types.</summary>
internal static class CommonOptions
{
    public static Option<string> Backend() =>
        new Option<string>("--backend")
        {
            Description = "Where the loss runs: auto (CUDA when usable, else the CPU), cpu or cuda",
            DefaultValueFactory = _ => "auto",
            HelpName = "auto|cpu|cuda",
        }.AcceptOnlyFromAmong("auto", "cpu", "cuda");

    public static Option<string> GradientMode() =>
        new Option<string>("--gradient-mode")
        {
            Description = "keras: the exact derivative (Keras's autodiff); paper: the pair weights held constant",
            DefaultValueFactory = _ => "keras",
            HelpName = "keras|paper",
        }.AcceptOnlyFromAmong("keras", "paper");

    public static Option<double> Gamma(double defaultValue) =>
        new("--gamma") { Description = "Circle Loss scale γ (> 0)", DefaultValueFactory = _ => defaultValue };

    public static Option<double> Margin(double defaultValue) =>
        new("--margin") { Description = "Circle Loss relaxation margin m", DefaultValueFactory = _ => defaultValue };

    public static Option<int> Seed() =>
        new("--seed") { Description = "Seed of every random choice (same seed, same run)", DefaultValueFactory = _ => 1 };

    public static Option<int> Threads(int defaultValue, string description) =>
        new("--threads") { Description = description, DefaultValueFactory = _ => defaultValue };

    public static Interop.Backend ParseBackend(string value) => value.ToLowerInvariant() switch
    {
        "auto" => Interop.Backend.Auto,
        "cpu" => Interop.Backend.Cpu,
        "cuda" => Interop.Backend.Cuda,
        _ => throw new UsageException($"--backend must be auto, cpu or cuda (got '{value}')."),
    };

    public static Interop.GradientMode ParseGradientMode(string value) => value.ToLowerInvariant() switch
    {
        "keras" => Interop.GradientMode.Keras,
        "paper" => Interop.GradientMode.Paper,
        _ => throw new UsageException($"--gradient-mode must be keras or paper (got '{value}')."),
    };

    /// <summary>Creates a session, turning an unusable backend the user asked for, or an option the library rejects,
    /// into a <see cref="UsageException"/> that names the command-line option. The library checks the options; the
    /// CLI repeats none of its rules.</summary>
    public static Circle CreateCircle(CircleOptions options)
    {
        try
        {
            return new Circle(options);
        }
        catch (Exception e) when (UsageErrorFromLibrary(e, options.Backend) is UsageException usage)
        {
            throw usage;
        }
    }

    /// <summary>The usage error for what the library refused because of a command-line option (an unusable
    /// <paramref name="backend"/> the user asked for, an option it rejects), or null for other failures.</summary>
    public static UsageException? UsageErrorFromLibrary(Exception e, Interop.Backend backend) => e switch
    {
        CircleLossBackendUnavailableException unavailable =>
            new UsageException($"--backend {backend.ToString().ToLowerInvariant()}: {CliApp.OneLine(unavailable.Message)}", unavailable),
        CircleLossArgumentException rejected when OptionFor(rejected.NativeArgument) is string option =>
            new UsageException($"{option}: {CliApp.OneLine(rejected.NativeMessage)}", rejected),
        _ => null,
    };

    /// <summary>The command-line option behind a native argument the library rejected, or null.</summary>
    private static string? OptionFor(string nativeArgument) => nativeArgument switch
    {
        "options->gamma" => "--gamma",
        "options->margin" => "--margin",
        "options->gradient_mode" => "--gradient-mode",
        "config->backend" => "--backend",
        "config->num_threads" => "--threads",
        _ => null,
    };

    public static string Format(double value, string format = "F3") => value.ToString(format, CultureInfo.InvariantCulture);
}
