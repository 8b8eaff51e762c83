using System;
using System.Diagnostics;
using System.Linq;

namespace CircleLoss.Interop.Distributed.MpiTests;

/// <summary>
/// The scaling figures of docs/distributed.md (`--bench N D steps`): the median wall time of a distributed
/// forward+backward step (float32, sum_over_batch_size, equal slices, one library thread per rank), the slowest
/// rank's time per step after a barrier; with one rank also the single-process call on the whole batch with 1 and 2
/// threads. A benchmark, not a test: it asserts nothing.
/// </summary>
internal static class Bench
{
    public static void Run(ICollectives ranks, int n, int d, int steps)
    {
        var random = new Random(5);
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(n / 8)).ToArray();
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int k = 0; k < d; k++)
            {
                x[i * d + k] = (float)(random.NextDouble() * 2 - 1);
                norm += x[i * d + k] * (double)x[i * d + k];
            }

            for (int k = 0; k < d; k++)
            {
                x[i * d + k] /= (float)Math.Sqrt(norm);
            }
        }

        int first = n * ranks.Rank / ranks.Size, count = n * (ranks.Rank + 1) / ranks.Size - first;
        int[] myLabels = labels.AsSpan(first, count).ToArray();
        float[] mine = x.AsSpan(first * d, count * d).ToArray();
        var loss = new float[1];
        var grad = new float[count * d];
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu, ThreadCount = 1 });
        var distributed = new DistributedCircle(circle, ranks);
        var times = new double[steps];
        var all = new double[ranks.Size];
        for (int step = -2; step < steps; step++)
        {
            ranks.AllReduceSum<double>(new double[1]); // a barrier: every rank starts the step together
            long start = Stopwatch.GetTimestamp();
            distributed.ForwardBackward(new CircleRequest<float>(myLabels, mine, d) { Loss = loss, GradEmbeddings = grad });
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            ranks.AllGather<double>([seconds], all, Enumerable.Repeat(1, ranks.Size).ToArray());
            if (step >= 0)
            {
                times[step] = all.Max();
            }
        }

        if (ranks.Rank != 0)
        {
            return;
        }

        Console.WriteLine($"bench N={n} D={d} ranks={ranks.Size}: distributed step median {Median(times) * 1e3:F1} ms (slowest rank, {steps} steps)");
        if (ranks.Size == 1)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                using var single = new Circle(new CircleOptions { Backend = Backend.Cpu, ThreadCount = threads });
                var whole = new float[n * d];
                for (int step = -2; step < steps; step++)
                {
                    long start = Stopwatch.GetTimestamp();
                    single.LossAndGradients(labels, x, d, whole);
                    if (step >= 0)
                    {
                        times[step] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    }
                }

                Console.WriteLine($"bench N={n} D={d} one process, {threads} thread(s): median {Median(times) * 1e3:F1} ms");
            }
        }
    }

    private static double Median(double[] values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
