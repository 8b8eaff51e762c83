using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using CircleLoss.Interop;
using Spectre.Console;

namespace CircleLoss.Cli.Commands;

/// <summary>The settings of <c>circleloss bench</c>.</summary>
internal sealed record BenchSettings
{
    public int Queries { get; init; } = 2048;

    public int References { get; init; } = 2048;

    public int Dimension { get; init; } = 128;

    public int Classes { get; init; } = 64;

    /// <summary>"self", "reference" or "both".</summary>
    public string Mode { get; init; } = "both";

    public int Repeats { get; init; } = 7;

    public int Warmup { get; init; } = 1;

    public bool Double { get; init; }

    public Backend Backend { get; init; } = Backend.Auto;

    public int Threads { get; init; }

    public int Seed { get; init; } = 1;

    public double Gamma { get; init; } = 80;

    public double Margin { get; init; } = 0.4;

    public GradientMode GradientMode { get; init; } = GradientMode.Keras;

    public void Validate()
    {
        if (Queries < 2 || References < 2)
        {
            throw new UsageException($"-n and -m must be at least 2 (got {Queries} and {References}).");
        }

        if (Dimension < 1)
        {
            throw new UsageException($"-d must be at least 1 (got {Dimension}).");
        }

        if (Classes < 1)
        {
            throw new UsageException($"--classes must be at least 1 (got {Classes}).");
        }

        if ((long)Math.Max(Queries, References) * Dimension > int.MaxValue / 2)
        {
            throw new UsageException($"the embeddings of {Math.Max(Queries, References)}×{Dimension} values are too large for one call.");
        }

        if (Repeats < 1 || Warmup < 0)
        {
            throw new UsageException("--repeats must be at least 1 and --warmup at least 0.");
        }
    }
}

/// <summary>One measured configuration.</summary>
/// <param name="Mode">"self" (the queries are their own references) or "reference".</param>
/// <param name="ProductFlops">The floating-point operations of the similarity and gradient products.</param>
/// <param name="FloorMedianSeconds">The median time of the bare products of the same problem, as the library measures
/// them (<c>Circle.MeasureProductFloor</c>); NaN where it cannot (CUDA sessions).</param>
internal readonly record struct BenchMeasurement(string Mode, int N, int M, int D, double MedianSeconds, double MinSeconds,
    double ProductFlops, double Loss, double FloorMedianSeconds)
{
    public double GigaflopsPerSecond => ProductFlops / MedianSeconds / 1e9;

    /// <summary>The call's median time over its products' median time (NaN without a floor).</summary>
    public double FloorRatio => MedianSeconds / FloorMedianSeconds;
}

/// <summary><c>circleloss bench</c>: times forward+backward on random unit-norm embeddings.</summary>
internal static class BenchCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var defaults = new BenchSettings();
        var queries = new Option<int>("--queries", "-n") { Description = "N, the query rows", DefaultValueFactory = _ => defaults.Queries };
        var references = new Option<int>("--references", "-m") { Description = "M, the reference rows (reference mode)", DefaultValueFactory = _ => defaults.References };
        var dimension = new Option<int>("--dimension", "-d") { Description = "D, the embedding dimension", DefaultValueFactory = _ => defaults.Dimension };
        var classes = new Option<int>("--classes") { Description = "Distinct labels, drawn uniformly", DefaultValueFactory = _ => defaults.Classes };
        var mode = new Option<string>("--mode") { Description = "self: X against itself; reference: X against a separate set R; both", DefaultValueFactory = _ => defaults.Mode, HelpName = "self|reference|both" }
            .AcceptOnlyFromAmong("self", "reference", "both");
        var repeats = new Option<int>("--repeats") { Description = "Timed calls per configuration (the median is reported)", DefaultValueFactory = _ => defaults.Repeats };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls first", DefaultValueFactory = _ => defaults.Warmup };
        var precision = new Option<string>("--precision") { Description = "float32 or float64", DefaultValueFactory = _ => "float32", HelpName = "float32|float64" }
            .AcceptOnlyFromAmong("float32", "float64");
        Option<string> backend = CommonOptions.Backend();
        Option<int> threads = CommonOptions.Threads(0, "CPU threads of the loss (0: one per hardware thread)");
        Option<int> seed = CommonOptions.Seed();
        Option<double> gamma = CommonOptions.Gamma(defaults.Gamma);
        Option<double> margin = CommonOptions.Margin(defaults.Margin);
        Option<string> gradientMode = CommonOptions.GradientMode();

        var command = new Command("bench",
            "Time the loss and its gradients (one forward+backward call) on random unit-norm embeddings: median time, GFLOP/s of the similarity and gradient products, and the ratio to the time of those products alone.")
        {
            queries, references, dimension, classes, mode, repeats, warmup, precision, backend, threads, seed, gamma, margin, gradientMode,
        };
        command.SetAction(parse =>
        {
            var settings = new BenchSettings
            {
                Queries = parse.GetValue(queries),
                References = parse.GetValue(references),
                Dimension = parse.GetValue(dimension),
                Classes = parse.GetValue(classes),
                Mode = parse.GetValue(mode)!,
                Repeats = parse.GetValue(repeats),
                Warmup = parse.GetValue(warmup),
                Double = parse.GetValue(precision) == "float64",
                Backend = CommonOptions.ParseBackend(parse.GetValue(backend)!),
                Threads = parse.GetValue(threads),
                Seed = parse.GetValue(seed),
                Gamma = parse.GetValue(gamma),
                Margin = parse.GetValue(margin),
                GradientMode = CommonOptions.ParseGradientMode(parse.GetValue(gradientMode)!),
            };
            Run(console, settings);
            return CliApp.SuccessExitCode;
        });
        return command;
    }

    /// <summary>The FLOPs of the products of one forward+backward call: self mode N²D for the similarities (the
    /// upper triangle of X·Xᵀ) and 2N²D for (G + Gᵀ)·X; reference mode 2NMD each for X·Rᵀ, G·R and Gᵀ·X.</summary>
    public static double ProductFlops(string mode, long n, long m, long d) =>
        mode == "self" ? 3.0 * n * n * d : 6.0 * n * m * d;

    internal static IReadOnlyList<BenchMeasurement> Run(IAnsiConsole console, BenchSettings settings)
    {
        settings.Validate();
        string[] modes = settings.Mode == "both" ? ["self", "reference"] : [settings.Mode];
        var options = new CircleOptions
        {
            Backend = settings.Backend,
            ThreadCount = settings.Threads,
            Gamma = settings.Gamma,
            Margin = settings.Margin,
            GradientMode = settings.GradientMode,
        };
        using Circle circle = CommonOptions.CreateCircle(options);
        console.WriteLine($"Engine: {circle.Description}" + (circle.FallbackReason is null ? string.Empty : $" (auto: {circle.FallbackReason})"));
        console.WriteLine($"Data:   random unit-norm {(settings.Double ? "float64" : "float32")} embeddings, {settings.Classes} classes, seed {settings.Seed}; " +
                          $"{settings.Warmup} warm-up + {settings.Repeats} timed calls each");

        var results = new List<BenchMeasurement>();
        foreach (string mode in modes)
        {
            results.Add(Measure(circle, settings, mode));
        }

        var table = new Table { Title = new TableTitle("forward + backward (loss and gradients in one call), times in ms"), Border = TableBorder.Minimal };
        table.AddColumn(new TableColumn("mode").NoWrap());
        foreach (string name in new[] { "N", "M", "D", "median", "min", "GFLOP/s", "floor", "× floor" })
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        foreach (BenchMeasurement r in results)
        {
            table.AddRow(r.Mode, r.N.ToString(CultureInfo.InvariantCulture), r.M.ToString(CultureInfo.InvariantCulture), r.D.ToString(CultureInfo.InvariantCulture),
                (r.MedianSeconds * 1e3).ToString("F2", CultureInfo.InvariantCulture), (r.MinSeconds * 1e3).ToString("F2", CultureInfo.InvariantCulture),
                r.GigaflopsPerSecond.ToString("F1", CultureInfo.InvariantCulture),
                double.IsNaN(r.FloorMedianSeconds) ? "n/a" : (r.FloorMedianSeconds * 1e3).ToString("F2", CultureInfo.InvariantCulture),
                double.IsNaN(r.FloorRatio) ? "n/a" : r.FloorRatio.ToString("F2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        console.WriteLine("GFLOP/s counts the products only: self 3·N²·D (the upper triangle of X·Xᵀ, then (G+Gᵀ)·X), reference 6·N·M·D (X·Rᵀ, G·R, Gᵀ·X).");
        console.WriteLine(circle.Backend == Backend.Cpu
            ? "floor: the bare products of the same problem timed by the library (no loss math); × floor: median over median, measured alternately."
            : "floor: the library measures the bare products for CPU sessions only (n/a on CUDA).");
        return results;
    }

    private static BenchMeasurement Measure(Circle circle, BenchSettings settings, string mode)
    {
        var random = new Random(settings.Seed);
        int n = settings.Queries;
        int m = mode == "self" ? n : settings.References;
        int d = settings.Dimension;
        int[] labels = RandomLabels(random, n, settings.Classes);
        double[] x = RandomUnitRows(random, n, d);
        int[] refLabels = mode == "self" ? [] : RandomLabels(random, m, settings.Classes);
        double[] r = mode == "self" ? [] : RandomUnitRows(random, m, d);

        Func<double> call;
        Func<TimeSpan> floor;
        if (settings.Double)
        {
            var gx = new double[n * d];
            var gr = new double[r.Length];
            call = () => circle.LossAndGradients(labels, x, d, gx, gr, default, refLabels, r);
            floor = () => circle.MeasureProductFloor(labels, x, d, refLabels, r);
        }
        else
        {
            float[] xf = x.Select(v => (float)v).ToArray();
            float[] rf = r.Select(v => (float)v).ToArray();
            var gx = new float[n * d];
            var gr = new float[rf.Length];
            call = () => circle.LossAndGradients(labels, xf, d, gx, gr, default, refLabels, rf);
            floor = () => circle.MeasureProductFloor(labels, xf, d, refLabels, rf);
        }

        bool hasFloor = circle.Backend == Backend.Cpu;
        for (int i = 0; i < settings.Warmup; i++)
        {
            call();
            if (hasFloor)
            {
                floor();
            }
        }

        // The call and its floor alternate, so that both see the same machine load.
        var times = new double[settings.Repeats];
        var floorTimes = new double[settings.Repeats];
        double loss = 0;
        for (int i = 0; i < settings.Repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            loss = call();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            floorTimes[i] = hasFloor ? floor().TotalSeconds : double.NaN;
        }

        Array.Sort(times);
        return new BenchMeasurement(mode, n, m, d, Median(times), times[0], ProductFlops(mode, n, m, d), loss,
            hasFloor ? Median(floorTimes) : double.NaN);
    }

    /// <summary>The median of <paramref name="values"/> (sorted in place).</summary>
    internal static double Median(double[] values)
    {
        Array.Sort(values);
        int half = values.Length / 2;
        return values.Length % 2 == 1 ? values[half] : 0.5 * (values[half - 1] + values[half]);
    }

    private static int[] RandomLabels(Random random, int count, int classes)
    {
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
        }

        return labels;
    }

    private static double[] RandomUnitRows(Random random, int rows, int d)
    {
        var data = new double[rows * d];
        for (int i = 0; i < rows; i++)
        {
            Span<double> row = data.AsSpan(i * d, d);
            double norm = 0;
            for (int j = 0; j < d; j++)
            {
                row[j] = Training.EmbeddingModel.Gaussian(random);
                norm += row[j] * row[j];
            }

            norm = Math.Sqrt(norm);
            for (int j = 0; j < d; j++)
            {
                row[j] /= norm;
            }
        }

        return data;
    }
}
