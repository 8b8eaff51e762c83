using System;
using System.Diagnostics;
using System.Linq;

namespace CircleLoss.Benchmarks;

/// <summary>Façade vs direct P/Invoke in alternating rounds of equal size (order swapped every round), so that both
/// see the same machine load; the ratio of each round's two times, and its median.</summary>
internal static class PairedOverhead
{
    public sealed record Result(int Rounds, int CallsPerRound, double FacadeMedianMicroseconds, double DirectMedianMicroseconds, double MedianRatio);

    public static Result Measure(int rounds = 41, int callsPerRound = 200)
    {
        using var workload = new Workload(Workload.Self256);
        for (int i = 0; i < 200; i++)
        {
            workload.Library();
            workload.Direct();
        }

        var facade = new double[rounds];
        var direct = new double[rounds];
        var ratio = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                facade[r] = Time(() => workload.Library(), callsPerRound);
                direct[r] = Time(() => workload.Direct(), callsPerRound);
            }
            else
            {
                direct[r] = Time(() => workload.Direct(), callsPerRound);
                facade[r] = Time(() => workload.Library(), callsPerRound);
            }

            ratio[r] = facade[r] / direct[r];
        }

        return new Result(rounds, callsPerRound, Median(facade) * 1e6, Median(direct) * 1e6, Median(ratio));
    }

    private static double Time(Action call, int count)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            call();
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds / count;
    }

    public static double Median(double[] values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
