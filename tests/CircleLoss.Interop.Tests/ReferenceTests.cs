using System;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>
/// The managed float64 reference is checked against finite differences and the golden cases; the native
/// library is then compared with it on random cases of every shape, reduction and mode.
/// </summary>
public class ReferenceTests
{
    public static TheoryData<int, RefsKind, Reduction, bool, bool> FiniteDifferenceCases()
    {
        var data = new TheoryData<int, RefsKind, Reduction, bool, bool>();
        int seed = 100;
        foreach (RefsKind refs in Enum.GetValues<RefsKind>())
        {
            foreach (Reduction reduction in Enum.GetValues<Reduction>())
            {
                data.Add(seed++, refs, reduction, reduction is Reduction.MeanWithSampleWeight or Reduction.Sum, reduction is Reduction.None or Reduction.Sum);
            }
        }

        return data;
    }

    /// <summary>The reference's Keras gradient is the derivative of its loss (central differences, the mask held fixed).</summary>
    [Theory]
    [MemberData(nameof(FiniteDifferenceCases))]
    public void Reference_keras_gradient_matches_finite_differences(int seed, RefsKind refs, Reduction reduction, bool weights, bool upstream)
    {
        ReferenceProblem p = RandomCases.Make(seed, n: 9, d: 4, refs, m: 7, classes: 3, weights, upstream, reduction, GradientMode.Keras, gamma: 16, margin: 0.3, norm: 0.95);
        ReferenceResult analytic = CircleReference.Compute(p);
        Assert.Contains(analytic.Mask, v => v); // a case where something is differentiated

        double Objective(ReferenceProblem q)
        {
            double[] loss = CircleReference.Compute(q).Loss;
            return q.Upstream is null ? loss.Sum() : loss.Select((l, i) => l * q.Upstream[i]).Sum();
        }

        const double h = 1e-6;
        double[] numeric = new double[p.Embeddings.Length];
        for (int k = 0; k < numeric.Length; k++)
        {
            double[] plus = (double[])p.Embeddings.Clone(), minus = (double[])p.Embeddings.Clone();
            plus[k] += h;
            minus[k] -= h;
            numeric[k] = (Objective(p with { Embeddings = plus }) - Objective(p with { Embeddings = minus })) / (2 * h);
        }

        Compare.Close(numeric, analytic.GradEmbeddings, 1e-6, "d loss / d embeddings");

        if (p.RefEmbeddings is not null)
        {
            double[] numericRef = new double[p.RefEmbeddings.Length];
            for (int k = 0; k < numericRef.Length; k++)
            {
                double[] plus = (double[])p.RefEmbeddings.Clone(), minus = (double[])p.RefEmbeddings.Clone();
                plus[k] += h;
                minus[k] -= h;
                numericRef[k] = (Objective(p with { RefEmbeddings = plus }) - Objective(p with { RefEmbeddings = minus })) / (2 * h);
            }

            Compare.Close(numericRef, analytic.GradRefEmbeddings!, 1e-6, "d loss / d refEmbeddings");
        }
    }

    public static TheoryData<string, GradientMode> GoldenNames()
    {
        var data = new TheoryData<string, GradientMode>();
        foreach (string name in GoldenCase.Names())
        {
            data.Add(name, GradientMode.Keras);
            data.Add(name, GradientMode.Paper);
        }

        return data;
    }

    /// <summary>The reference agrees with the independent golden data too, so it is a second, independent truth.</summary>
    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void Reference_matches_golden(string name, GradientMode mode)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        ReferenceResult r = CircleReference.Compute(new ReferenceProblem(c.Labels, c.Embeddings, c.Dimension, c.Gamma, c.Margin,
            c.RemoveDiagonal, c.Reduction, mode, c.RefLabels, c.RefEmbeddings, c.SampleWeights, c.Upstream));
        Compare.Close(e.Loss, r.Loss, 1e-12, "loss");
        Compare.Close(e.PerSampleLoss, r.PerSampleLoss, 1e-12, "per_sample_loss");
        Assert.Equal(e.Mask, r.Mask);
        Compare.Close(e.GradEmbeddings, r.GradEmbeddings, 1e-11, "grad_embeddings");
        if (e.GradRefEmbeddings is not null)
        {
            Compare.Close(e.GradRefEmbeddings, r.GradRefEmbeddings!, 1e-11, "grad_ref_embeddings");
        }
    }

    public static TheoryData<int, RefsKind, Reduction, GradientMode, Backend> RandomCaseData()
    {
        var data = new TheoryData<int, RefsKind, Reduction, GradientMode, Backend>();
        int seed = 1000;
        foreach (Backend backend in NativeRun.Backends())
        {
            foreach (RefsKind refs in Enum.GetValues<RefsKind>())
            {
                foreach (Reduction reduction in Enum.GetValues<Reduction>())
                {
                    foreach (GradientMode mode in Enum.GetValues<GradientMode>())
                    {
                        data.Add(seed++, refs, reduction, mode, backend);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RandomCaseData))]
    public void Native_matches_reference_on_random_cases(int seed, RefsKind refs, Reduction reduction, GradientMode mode, Backend backend)
    {
        var random = new Random(seed);
        int n = random.Next(1, 40), d = random.Next(1, 20), m = random.Next(0, 50), classes = random.Next(1, 6);
        bool weights = random.Next(2) == 0, upstream = random.Next(2) == 0, removeDiagonal = random.Next(4) != 0;
        double gamma = new[] { 16.0, 80.0, 256.0 }[random.Next(3)], margin = new[] { 0.25, 0.4 }[random.Next(2)];
        // The gradient is discontinuous at s = 1 (d = max(1 − s, 0) is clamped): where a pair can sit exactly
        // there (a query paired with itself, or D = 1 where every s is ±1) the rows are scaled to norm 0.9, as
        // the golden norm09 cases are; otherwise a rounding on either side of 1 decides the result.
        bool pairsOnTheClamp = d == 1 || refs == RefsKind.LabelsOnly || (refs == RefsKind.Self && !removeDiagonal);
        double norm = pairsOnTheClamp || random.Next(2) == 0 ? 0.9 : 1.0;
        ReferenceProblem p = RandomCases.Make(seed, n, d, refs, m, classes, weights, upstream, reduction, mode, gamma, margin, removeDiagonal, norm);
        ReferenceResult expected = CircleReference.Compute(p);
        using var circle = new Circle(p.Options(backend));

        ReferenceResult r64 = NativeRun.Float64(circle, p);
        Compare.Close(expected.Loss, r64.Loss, 1e-10, "float64 loss");
        Compare.Close(expected.PerSampleLoss, r64.PerSampleLoss, 1e-10, "float64 per-sample loss");
        Assert.Equal(expected.Mask, r64.Mask);
        Compare.Close(expected.GradEmbeddings, r64.GradEmbeddings, 1e-10, "float64 grad_embeddings");
        if (expected.GradRefEmbeddings is not null)
        {
            Compare.Close(expected.GradRefEmbeddings, r64.GradRefEmbeddings!, 1e-10, "float64 grad_ref_embeddings");
        }

        ReferenceResult r32 = NativeRun.Float32(circle, p);
        Compare.Close(expected.Loss, r32.Loss, 1e-5, "float32 loss");
        Compare.Close(expected.PerSampleLoss, r32.PerSampleLoss, 1e-5, "float32 per-sample loss");
        Compare.Close(expected.GradEmbeddings, r32.GradEmbeddings, 1e-4, "float32 grad_embeddings");
        if (expected.GradRefEmbeddings is not null)
        {
            Compare.Close(expected.GradRefEmbeddings, r32.GradRefEmbeddings!, 1e-4, "float32 grad_ref_embeddings");
        }
    }

    [Fact]
    public void An_explicitly_empty_reference_set_gives_zero_loss_and_gradients()
    {
        // M = 0 with both reference arrays given (only the array overloads can say "given but empty").
        ReferenceProblem p = RandomCases.Make(7, n: 5, d: 3, RefsKind.Both, m: 0);
        using var circle = new Circle(p.Options());
        CircleResult<double> result = circle.Compute(p.Labels, GoldenTests.ToMatrix(p.Embeddings, 5, 3), refLabels: [], refEmbeddings: new double[0, 3]);
        Assert.Equal([0.0], result.Loss);
        Assert.All(result.PerSampleLoss, v => Assert.Equal(0.0, v));
        Assert.All(result.Mask, Assert.False);
        Assert.All(GoldenTests.Flatten(result.GradEmbeddings!), v => Assert.Equal(0.0, v));
        Assert.Equal(0, result.GradRefEmbeddings!.GetLength(0));

        // Not given at all: the queries are the references, and the loss is not zero.
        Assert.NotEqual(0.0, circle.Loss(p.Labels, GoldenTests.ToMatrix(p.Embeddings, 5, 3)));
    }

    [Fact]
    public void An_empty_batch_gives_zero()
    {
        using var circle = new Circle();
        Assert.Equal(0.0, circle.Loss(ReadOnlySpan<int>.Empty, ReadOnlySpan<double>.Empty, 4));
        Assert.Equal(0f, circle.LossAndGradients(ReadOnlySpan<int>.Empty, ReadOnlySpan<float>.Empty, 4, Span<float>.Empty));
    }

    [Fact]
    public void The_gradient_modes_share_the_forward_pass_and_differ_in_the_gradient()
    {
        ReferenceProblem p = RandomCases.Make(3, n: 16, d: 6);
        using var keras = new Circle(p.Options());
        using var paper = new Circle(p.Options() with { GradientMode = GradientMode.Paper });
        ReferenceResult k = NativeRun.Float64(keras, p);
        ReferenceResult q = NativeRun.Float64(paper, p);
        Assert.Equal(k.Loss, q.Loss);
        Assert.Equal(k.PerSampleLoss, q.PerSampleLoss);
        Assert.True(Compare.Error(k.GradEmbeddings, q.GradEmbeddings) > 1e-3);
    }
}
