using System;
using System.Linq;

namespace CircleLoss.Interop.Distributed.MpiTests;

/// <summary>
/// Bad input on one rank only: every rank must throw the same <see cref="CircleLossDistributedException"/>, naming the
/// failing rank and its message, and the ranks must still be in step for the next call.
/// </summary>
internal static class Failures
{
    public sealed record Case(string Name, string Step, string Needle, Action<ICollectives, bool> Run)
    {
        /// <summary>A disagreement between ranks needs two of them.</summary>
        public bool NeedsTwoRanks => Step.Length == 0;
    }

    public static Case[] All() =>
    [
        new("shape on the last rank", "argument checks", "embeddings must hold", (c, bad) => Call(c, bad, badShape: true)),
        new("negative weight on the last rank", "forward and backward pass", "sample_weights must be >= 0", (c, bad) => Call(c, bad, badWeight: true)),
        new("non-finite upstream on the last rank", "forward and backward pass", "upstream has a non-finite value",
            (c, bad) => Call(c, bad, badUpstream: true)),
        new("other gamma on the last rank", "", "disagree on gamma", (c, bad) => Call(c, bad, otherGamma: true)),
    ];

    /// <summary>Runs the case; returns null when every expectation holds, else what went wrong.</summary>
    public static string? Check(ICollectives collectives, Case test)
    {
        bool bad = collectives.Rank == collectives.Size - 1;
        try
        {
            test.Run(collectives, bad);
            return "no exception";
        }
        catch (CircleLossDistributedException e)
        {
            if (!e.Message.Contains(test.Needle, StringComparison.Ordinal))
            {
                return $"message '{e.Message}' does not contain '{test.Needle}'";
            }

            if (test.Step.Length > 0)
            {
                if (!e.Message.Contains($"in its {test.Step}", StringComparison.Ordinal))
                {
                    return $"message '{e.Message}' does not name the step '{test.Step}'";
                }

                if (e.Failures.Count != 1 || e.Failures[0].Rank != collectives.Size - 1)
                {
                    return $"failures [{string.Join(", ", e.Failures.Select(f => f.Rank))}] instead of [{collectives.Size - 1}]";
                }

                if (bad != e.InnerException is ArgumentException)
                {
                    return $"inner exception {e.InnerException?.GetType().Name} on {(bad ? "the failing" : "a healthy")} rank";
                }
            }

            return null;
        }
    }

    private static void Call(ICollectives collectives, bool bad, bool badShape = false, bool badWeight = false, bool badUpstream = false,
        bool otherGamma = false)
    {
        const int d = 3;
        using var circle = new Circle(new CircleOptions
        {
            Gamma = bad && otherGamma ? 64 : 80,
            Reduction = badUpstream ? Reduction.None : Reduction.SumOverBatchSize,
            Backend = Backend.Cpu,
            ThreadCount = 1,
        });
        int[] labels = [0, 1, 0, 1];
        double[] x = [1, 0, 0, 0, 1, 0, 0.6, 0.8, 0, 0, 0.8, 0.6];
        double[] weights = [1, 1, bad && badWeight ? -1 : 1, 1];
        double[] upstream = badUpstream ? [1, bad ? double.NaN : 1, 1, 1] : [];
        var loss = new double[badUpstream ? 4 : 1];
        var grad = new double[labels.Length * d];
        var request = new CircleRequest<double>(labels, bad && badShape ? x.AsSpan(1) : x, d)
        {
            SampleWeights = weights, Upstream = upstream, Loss = loss, GradEmbeddings = grad,
        };
        new DistributedCircle(circle, collectives).ForwardBackward(request);
    }
}
