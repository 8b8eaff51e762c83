using System;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading;

namespace CircleLoss.Benchmarks;

/// <summary>
/// The cases of issue 17, where users call the loss: a batch of about a thousand rows once per training step (back to
/// back, or after an idle gap in which the model's own work would run), float64, a reference memory that fits the
/// workspace limit, and the large self-similarity case. Per case two interleaved comparisons in one process: the
/// library against its product floor, and against the same loss in TorchSharp; each side measured the same way (for
/// the idle-gap case every call, floor and TorchSharp included, comes after the same pause).
/// </summary>
internal static class LoopCases
{
    private static readonly Workload.Spec Refs65536 =
        new("refs-65536", "queries vs references N=1024, M=65536, D=128, 1000 classes, float32", 1024, 65536, 128, 1000, false, true);

    /// <summary>Runs every case and returns the markdown table.</summary>
    public static string Run(int idleMilliseconds, bool quick)
    {
        int large = quick ? 3 : 9, slow = quick ? 3 : 5, small = quick ? 7 : 31;
        var md = new StringBuilder();
        md.AppendLine("| case | library (median ms) | TorchSharp (median ms) | TorchSharp / library | floor (median ms) | library / floor | rounds (floor, TorchSharp) | CPU used by other processes |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        Row(md, "N=M=4096, D=256, float32, self", Workload.Self4096, 0, large, slow);
        Row(md, "N=1024, M=65536, D=128, float32, references", Refs65536, 0, large, slow);
        Row(md, "N=M=1024, D=128, float32, called back to back", Workload.Self1024, 0, small, small);
        Row(md, $"same, {idleMilliseconds} ms idle before each call", Workload.Self1024, idleMilliseconds, small, small);
        Row(md, "N=M=1024, D=128, float64, back to back", Workload.Self1024F64, 0, small, small);
        return md.ToString();
    }

    private static void Row(StringBuilder md, string title, Workload.Spec spec, int idleMilliseconds, int floorRounds, int torchRounds)
    {
        using var w = new Workload(spec, torch: true);
        Func<double> library = Measured(() => w.Library(), idleMilliseconds);
        Func<double> torch = Measured(() => w.Torch(), idleMilliseconds);
        Func<double> floor = idleMilliseconds > 0 ? Measured(() => w.Floor(), idleMilliseconds, timesItself: true) : w.Floor;
        // OpenBLAS's threads spin for a while after the floor's threaded products: back to back, let them settle.
        int settle = idleMilliseconds > 0 ? 0 : 300;
        Interleaved.Result f = Interleaved.Run(spec.Key + SuffixOf(idleMilliseconds) + "/floor", "floor", floor, "library", library, floorRounds, settle);
        Interleaved.Result t = Interleaved.Run(spec.Key + SuffixOf(idleMilliseconds) + "/torch", "library", library, "TorchSharp", torch, torchRounds);
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| {title} | {f.BMedian * 1e3:F2} | {t.BMedian * 1e3:F1} | **{t.MedianRatio:F1}×** | {f.AMedian * 1e3:F2} | **{f.MedianRatio:F2}** | {floorRounds}, {torchRounds} | {Math.Max(f.OthersShare, t.OthersShare) * 100:F0} % |"));
    }

    private static string SuffixOf(int idleMilliseconds) => idleMilliseconds > 0 ? $"-idle{idleMilliseconds}" : "";

    /// <summary>Seconds of one call; back to back, repeated to last about 50 ms; with an idle gap, one call after the
    /// pause (not timed). <paramref name="timesItself"/>: the call returns its own seconds (the floor).</summary>
    private static Func<double> Measured(Func<double> call, int idleMilliseconds, bool timesItself = false)
    {
        if (idleMilliseconds <= 0)
        {
            return Interleaved.Timed(() => call(), 0.05);
        }

        return () =>
        {
            Thread.Sleep(idleMilliseconds);
            long start = Stopwatch.GetTimestamp();
            double own = call();
            return timesItself ? own : Stopwatch.GetElapsedTime(start).TotalSeconds;
        };
    }
}
