using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace CircleLoss.Benchmarks;

/// <summary>
/// The ratios once more, measured in alternating rounds (A then B, then B then A, ...) so that both sides of each ratio
/// see the same machine load; the median of the per-round ratios B/A. Also how much of the machine other processes
/// used meanwhile (from /proc/stat and this process's own CPU time), to show how loaded the shared machine was.
/// </summary>
internal static class Interleaved
{
    /// <param name="QuietRatio">The median ratio over the quietest third of the rounds (least CPU used by other processes).</param>
    /// <param name="QuietOthersShare">The largest share of the CPUs other processes used in one of those quiet rounds.</param>
    public sealed record Result(string Key, string A, string B, int Rounds, double AMedian, double BMedian, double MedianRatio, double OthersShare,
        double QuietRatio, double QuietOthersShare)
    {
        /// <summary>Per round: A seconds, B seconds, the share of the CPUs other processes used.</summary>
        public (double A, double B, double Others)[] PerRound { get; init; } = [];
    }

    public static readonly Dictionary<string, Result> Results = new(StringComparer.Ordinal);

    /// <summary>Each function runs its side once or more and returns the seconds per call. <paramref name="settleAfterA"/>:
    /// a pause after each A (not timed, not counted in the load), e.g. for OpenBLAS's spinning workers to go idle.</summary>
    public static Result Run(string key, string aName, Func<double> a, string bName, Func<double> b, int rounds, int settleAfterA = 0)
    {
        a();
        Settle(settleAfterA);
        b();
        var sa = new double[rounds];
        var sb = new double[rounds];
        var ratios = new double[rounds];
        var roundOthers = new double[rounds];
        var all = new Load();
        for (int r = 0; r < rounds; r++)
        {
            var load = new Load();
            if (r % 2 == 0)
            {
                sa[r] = load.Measure(a);
                Settle(settleAfterA);
                sb[r] = load.Measure(b);
            }
            else
            {
                sb[r] = load.Measure(b);
                sa[r] = load.Measure(a);
                Settle(settleAfterA);
            }

            roundOthers[r] = load.OthersShare;
            all.Add(load);
            ratios[r] = sb[r] / sa[r];
        }

        double others = all.OthersShare;
        int quietCount = Math.Max(2, rounds / 3);
        int[] quiet = Enumerable.Range(0, rounds).OrderBy(r => double.IsNaN(roundOthers[r]) ? 1.0 : roundOthers[r]).Take(quietCount).ToArray();
        var result = new Result(key, aName, bName, rounds, Stats.Median(sa), Stats.Median(sb), Stats.Median(ratios), others,
            Stats.Median(quiet.Select(r => ratios[r]).ToArray()), quiet.Max(r => roundOthers[r]))
        {
            PerRound = Enumerable.Range(0, rounds).Select(r => (sa[r], sb[r], roundOthers[r])).ToArray(),
        };
        Results[key] = result;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[interleaved] {key}: {aName} {result.AMedian * 1e3:F3} ms, {bName} {result.BMedian * 1e3:F3} ms, median {bName}/{aName} {result.MedianRatio:F3} over {rounds} rounds ({others * 100:F0} % of the CPUs used by other processes while timed); quietest {quietCount} rounds (others <= {result.QuietOthersShare * 100:F0} %): {result.QuietRatio:F3}"));
        return result;
    }

    private static void Settle(int milliseconds)
    {
        if (milliseconds > 0)
        {
            System.Threading.Thread.Sleep(milliseconds);
        }
    }

    /// <summary>CPU ticks of the machine and of other processes, summed over the timed calls only.</summary>
    private sealed class Load
    {
        private long _total, _others;

        public double OthersShare => _total <= 0 ? double.NaN : Math.Clamp((double)_others / _total, 0, 1);

        public double Measure(Func<double> call)
        {
            var before = CpuSnapshot.Take();
            double seconds = call();
            var after = CpuSnapshot.Take();
            _total += after.Total - before.Total;
            _others += (after.Busy - before.Busy) - (after.Own - before.Own);
            return seconds;
        }

        public void Add(Load other)
        {
            _total += other._total;
            _others += other._others;
        }
    }

    /// <summary>Times <paramref name="call"/> repeated enough to last about <paramref name="seconds"/>; seconds per call.</summary>
    public static Func<double> Timed(Action call, double seconds = 0.1)
    {
        int reps = 0;
        return () =>
        {
            if (reps == 0)
            {
                long s0 = Stopwatch.GetTimestamp();
                call();
                reps = Math.Max(1, (int)Math.Ceiling(seconds / Math.Max(Stopwatch.GetElapsedTime(s0).TotalSeconds, 1e-6)));
            }

            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < reps; i++)
            {
                call();
            }

            return Stopwatch.GetElapsedTime(start).TotalSeconds / reps;
        };
    }

    /// <summary>The product floor as the library times it (run it with a settle pause: OpenBLAS's workers spin after it).</summary>
    public static Func<double> Floor(Workload workload) => workload.Floor;

    private readonly record struct CpuSnapshot(long Total, long Busy, long Own)
    {
        public static CpuSnapshot Take()
        {
            try
            {
                long[] cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                long total = cpu.Take(8).Sum(); // user nice system idle iowait irq softirq steal
                long idle = cpu[3] + cpu[4];
                string stat = File.ReadAllText("/proc/self/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                long own = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
                return new CpuSnapshot(total, total - idle, own);
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
            {
                return new CpuSnapshot(0, 0, 0);
            }
        }
    }
}
