using System;
using System.Globalization;

namespace CircleLoss.Benchmarks;

/// <summary>--probe: per-round library/floor ratios at N=4096 with the CPU share other processes used in each round
/// (to see how load moves the ratio).</summary>
internal static class Probe
{
    public static void Run()
    {
        using var w = new Workload(Workload.Self4096);
        w.Library();
        w.Floor();
        for (int r = 0; r < 12; r++)
        {
            var result = Interleaved.Run("probe", "floor", Interleaved.Floor(w), "library", Interleaved.Timed(() => w.Library(), 0), 1, 300);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {r}: floor {result.AMedian * 1e3:F1} ms, library {result.BMedian * 1e3:F1} ms, ratio {result.MedianRatio:F3}, others {result.OthersShare * 100:F0} %"));
        }
    }
}
