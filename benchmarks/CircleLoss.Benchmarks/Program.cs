using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using CircleLoss.Interop;
using TorchSharp;

namespace CircleLoss.Benchmarks;

public static class Program
{
    /// <summary>
    /// benchmarks/run.sh runs: CircleLoss.Benchmarks --output docs/performance-torchsharp.md --command "benchmarks/run.sh".
    /// Options: --output PATH (the markdown results), --command TEXT (recorded in the results), --quick (short jobs, for
    /// trying the harness), --prepare-only (only the TorchSharp loader workaround), --filter NAME (benchmark classes
    /// whose name contains NAME; repeatable), --training-step (only the TorchSharp training-step comparison, printed),
    /// --loop-cases (only issue 17's cases: library, floor and TorchSharp interleaved, printed), --idle-gap MS (the pause
    /// before each call of the loop cases' idle-gap row; default 200).
    /// </summary>
    public static int Main(string[] args)
    {
        string? output = null;
        string command = "dotnet CircleLoss.Benchmarks.dll " + string.Join(' ', args);
        bool prepareOnly = false, probeOnly = false, trainingStep = false, loopCases = false;
        int idleGap = 200;
        var filters = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--output": output = args[++i]; break;
                case "--command": command = args[++i]; break;
                case "--quick": Jobs.Quick = true; break;
                case "--prepare-only": prepareOnly = true; break;
                case "--filter": filters.Add(args[++i]); break;
                case "--probe": probeOnly = true; break;
                case "--training-step": trainingStep = true; break;
                case "--loop-cases": loopCases = true; break;
                case "--idle-gap": idleGap = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'");
                    return 2;
            }
        }

        // 1. TorchSharp's native library on this system (see LibTorchSharpCompatibility in CircleLoss.Interop.TorchSharp), before anything touches TorchSharp.
        Console.WriteLine(CircleLoss.Interop.TorchSharp.LibTorchSharpCompatibility.Prepare(AppContext.BaseDirectory));
        if (prepareOnly)
        {
            return 0;
        }

        // (BenchmarkDotNet changes the process priority while it runs: the niceness is read before.)
        var environment = new RunEnvironment
        {
            Command = command, Start = DateTimeOffset.UtcNow, LoadBefore = LoadAverage(), Niceness = Report.Niceness(), Autogroup = Report.Autogroup(),
        };
        try
        {
            torch.set_num_threads(Workload.Threads);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("TorchSharp could not be loaded:\n" + e);
            return 3;
        }

        environment.TorchThreads = torch.get_num_threads();
        environment.Torch = $"TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch {TorchVersion()})";

        // 2. The library, and the agreement of both implementations before anything is timed.
        NativeDirect.Register();
        using (var probe = new Circle(Workload.Options))
        {
            environment.Library = $"libcircleloss {CircleLossLibrary.VersionString} from {CircleLossLibrary.LibraryPath}; session: {probe.Description}, {probe.ThreadCount} threads";
        }

        Console.WriteLine(environment.Library);
        Console.WriteLine(environment.Torch + $", torch threads {environment.TorchThreads}");
        if (probeOnly)
        {
            Probe.Run();
            return 0;
        }

        if (trainingStep || loopCases)
        {
            // Issue 13: whole training steps with the TorchSharp adapter against the hand-written loss; issue 17: the
            // loss where training loops call it.
            string table = trainingStep ? TrainingStep.Run(Jobs.Quick) : LoopCases.Run(idleGap, Jobs.Quick);
            Console.WriteLine();
            Console.WriteLine($"OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}, " +
                              $"OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "(unset)"}, load average before {environment.LoadBefore}, after {LoadAverage()}");
            Console.WriteLine(table);
            return 0;
        }

        try
        {
            Verification.SmallCases();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e.Message);
            return 4;
        }

        // 3. The benchmarks.
        Type[] types =
        [
            typeof(SelfSimilarity4096), typeof(SelfSimilarity1024), typeof(SelfSimilarity1024Float64), typeof(FacadeOverhead256),
            typeof(ReferenceMemory262144), typeof(ReferenceMemory16384),
        ];
        if (filters.Count > 0)
        {
            types = types.Where(t => filters.Any(f => t.Name.Contains(f, StringComparison.OrdinalIgnoreCase))).ToArray();
        }

        string artifacts = Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts");
        IConfig config = ManualConfig.CreateEmpty()
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max, StatisticColumn.Iterations)
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
        var stopwatch = Stopwatch.StartNew();
        Summary[] summaries = BenchmarkRunner.Run(types, config);
        environment.BenchmarkSeconds = stopwatch.Elapsed.TotalSeconds;

        // 4. Every ratio once more, interleaved (robust to the machine's load drifting between BenchmarkDotNet's runs).
        stopwatch.Restart();
        RunInterleaved(types);
        environment.InterleavedSeconds = stopwatch.Elapsed.TotalSeconds;

        environment.LoadAfter = LoadAverage();
        var report = new Report(summaries, environment);
        string markdown = report.Markdown();
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            File.WriteAllText(output, markdown);
            Console.WriteLine($"results written to {output}");
        }

        if (report.MissingResults.Count > 0)
        {
            Console.Error.WriteLine("benchmarks without results: " + string.Join(", ", report.MissingResults));
            return 5;
        }

        return 0;
    }

    private static void RunInterleaved(Type[] types)
    {
        int large = Jobs.Quick ? 3 : 9, slow = Jobs.Quick ? 3 : 7, medium = Jobs.Quick ? 5 : 21, small = Jobs.Quick ? 9 : 41;
        if (types.Contains(typeof(SelfSimilarity4096)))
        {
            using var w = new Workload(Workload.Self4096, torch: true);
            Interleaved.Run("self-4096/floor", "floor", Interleaved.Floor(w), "library", Interleaved.Timed(() => w.Library(), 0), large, 300);
            Interleaved.Run("self-4096/torch", "library", Interleaved.Timed(() => w.Library(), 0), "TorchSharp", Interleaved.Timed(() => w.Torch(), 0), slow);
        }

        foreach (var (type, spec) in new[] { (typeof(SelfSimilarity1024), Workload.Self1024), (typeof(SelfSimilarity1024Float64), Workload.Self1024F64) })
        {
            if (types.Contains(type))
            {
                using var w = new Workload(spec, torch: true);
                Interleaved.Run(spec.Key + "/floor", "floor", Interleaved.Floor(w), "library", Interleaved.Timed(() => w.Library(), 0.05), medium, 300);
                Interleaved.Run(spec.Key + "/torch", "library", Interleaved.Timed(() => w.Library()), "TorchSharp", Interleaved.Timed(() => w.Torch()), medium);
            }
        }

        if (types.Contains(typeof(FacadeOverhead256)))
        {
            using var w = new Workload(Workload.Self256);
            Interleaved.Run("self-256/facade", "direct P/Invoke", Interleaved.Timed(() => w.Direct(), 0.05), "façade", Interleaved.Timed(() => w.Library(), 0.05), small);
        }

        if (types.Contains(typeof(ReferenceMemory262144)))
        {
            using var w = new Workload(Workload.Refs262144);
            Interleaved.Run("refs-262144/floor", "floor", Interleaved.Floor(w), "library", Interleaved.Timed(() => w.Library(), 0), slow, 300);
        }

        if (types.Contains(typeof(ReferenceMemory16384)))
        {
            using var w = new Workload(Workload.Refs16384, torch: true);
            Interleaved.Run("refs-16384/floor", "floor", Interleaved.Floor(w), "library", Interleaved.Timed(() => w.Library(), 0), large, 300);
            Interleaved.Run("refs-16384/torch", "library", Interleaved.Timed(() => w.Library(), 0), "TorchSharp", Interleaved.Timed(() => w.Torch(), 0), slow);
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string TorchVersion()
    {
        try
        {
            return torch.__version__;
        }
        catch (Exception)
        {
            return "?";
        }
    }
}

internal sealed class RunEnvironment
{
    public string Command { get; set; } = "";
    public DateTimeOffset Start { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public string Library { get; set; } = "";
    public string Torch { get; set; } = "";
    public int TorchThreads { get; set; }
    public double BenchmarkSeconds { get; set; }
    public double InterleavedSeconds { get; set; }
    public string Niceness { get; set; } = "";
    public string Autogroup { get; set; } = "";
}
