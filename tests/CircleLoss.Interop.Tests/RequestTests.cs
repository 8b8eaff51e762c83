using System;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>The request-based entry points (<see cref="CircleRequest{T}"/>): golden cases with 32-bit and 64-bit
/// labels, forward then backward from the saved state, "no references" against an empty reference set, and the
/// errors of mixed label types.</summary>
public class RequestTests
{
    private const double Float64Tolerance = 1e-10;

    /// <summary>The labels as 64-bit integers that differ only in their high halves (a 32-bit comparison would be wrong).</summary>
    private static long[] Wide(int[] labels) => labels.Select(v => (long)(((ulong)(uint)v << 32) | 7)).ToArray();

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in GoldenCase.Names())
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_cases_with_32_and_64_bit_labels(string name, bool wideLabels)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(GradientMode.Keras);
        using var circle = new Circle(c.Options(GradientMode.Keras, Backend.Cpu));
        var loss = new double[circle.LossLength(c.N)];
        var perSample = new double[c.N];
        var mask = new bool[c.N];
        var grad = new double[c.N * c.Dimension];
        double[]? gradRef = c.RefEmbeddings is null ? null : new double[c.M * c.Dimension];
        LabelSpan labels = wideLabels ? Wide(c.Labels) : c.Labels;
        LabelSpan refLabels = c.RefLabels is null ? default : wideLabels ? Wide(c.RefLabels) : c.RefLabels;

        var request = new CircleRequest<double>(labels, c.Embeddings, c.Dimension)
        {
            SampleWeights = c.SampleWeights, Upstream = c.Upstream,
            Loss = loss, PerSampleLoss = perSample, Mask = mask, GradEmbeddings = grad, GradRefEmbeddings = gradRef,
        };
        request = c.RefLabels is null ? request : request with { RefLabels = refLabels };
        request = c.RefEmbeddings is null ? request : request with { RefEmbeddings = c.RefEmbeddings };
        circle.ForwardBackward(request);

        Assert.Equal(wideLabels, request.Labels.IsInt64);
        Compare.Close(e.Loss, loss, Float64Tolerance, "loss");
        Compare.Close(e.PerSampleLoss, perSample, Float64Tolerance, "per_sample_loss");
        Assert.Equal(e.Mask, mask);
        Compare.Close(e.GradEmbeddings, grad, Float64Tolerance, "grad_embeddings");
        if (e.GradRefEmbeddings is not null)
        {
            Compare.Close(e.GradRefEmbeddings, gradRef!, Float64Tolerance, "grad_ref_embeddings");
        }
    }

    [Fact]
    public void Forward_then_backward_from_the_saved_state_equals_the_combined_call_in_float32()
    {
        ReferenceProblem p = RandomCases.Make(seed: 5, n: 40, d: 8, refs: RefsKind.Both, m: 25, classes: 4);
        using var circle = new Circle(p.Options());
        long[] labels = p.Labels.Select(v => (long)v).ToArray();
        long[] refLabels = p.RefLabels!.Select(v => (long)v).ToArray();
        float[] x = p.Embeddings.ToSingle(), r = p.RefEmbeddings!.ToSingle();
        var loss = new float[1];
        var state = new float[Circle.SavedStatePerRow * p.N];
        var grad = new float[x.Length];
        var gradRef = new float[r.Length];
        var combinedGrad = new float[x.Length];
        var combinedGradRef = new float[r.Length];
        float[] upstream = [0.5f];

        circle.Forward(new CircleRequest<float>(labels, x, p.Dimension)
        {
            RefLabels = refLabels, RefEmbeddings = r, Loss = loss, SavedStateOutput = state,
        });
        circle.Backward(new CircleRequest<float>(labels, x, p.Dimension)
        {
            RefLabels = refLabels, RefEmbeddings = r, SavedState = state, Upstream = upstream,
            GradEmbeddings = grad, GradRefEmbeddings = gradRef,
        });
        circle.ForwardBackward(new CircleRequest<float>(labels, x, p.Dimension)
        {
            RefLabels = refLabels, RefEmbeddings = r, Loss = new float[1], Upstream = upstream,
            GradEmbeddings = combinedGrad, GradRefEmbeddings = combinedGradRef,
        });

        Assert.Equal(combinedGrad, grad);
        Assert.Equal(combinedGradRef, gradRef);
        Assert.True(loss[0] > 0);
    }

    [Fact]
    public void An_empty_reference_set_is_not_the_same_as_no_references()
    {
        int[] labels = [0, 0, 1, 1];
        double[] x = [1, 0, 0.8, 0.6, 0, 1, 0.6, 0.8];
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu, Reduction = Reduction.Sum });
        var self = new double[1];
        var empty = new double[1];
        var perSample = new double[4];

        circle.Forward(new CircleRequest<double>(labels, x, 2) { Loss = self });
        circle.Forward(new CircleRequest<double>(labels, x, 2)
        {
            RefLabels = ReadOnlySpan<int>.Empty, RefEmbeddings = ReadOnlySpan<double>.Empty, Loss = empty, PerSampleLoss = perSample,
        });

        Assert.True(self[0] > 0, "the queries against themselves have positives and negatives");
        Assert.Equal(0.0, empty[0]);
        Assert.All(perSample, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Reference_labels_of_another_integer_type_are_refused()
    {
        int[] labels = [0, 1];
        double[] x = [1, 0, 0, 1];
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu });
        var loss = new double[1];

        var e = Assert.Throws<ArgumentException>(() => circle.Forward(new CircleRequest<double>(labels, x, 2)
        {
            RefLabels = new long[] { 0, 1 }, Loss = loss,
        }));

        Assert.Equal("refLabels", e.ParamName);
        Assert.StartsWith("refLabels must have the integer type of labels (32-bit), but are 64-bit.", e.Message, StringComparison.Ordinal);
        Assert.Equal(0.0, loss[0]);
    }

    [Fact]
    public void Lengths_are_checked_as_for_the_other_overloads()
    {
        long[] labels = [0, 1, 1];
        var x = new float[6];
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu });

        var e = Assert.Throws<ArgumentException>(() => circle.ForwardBackward(new CircleRequest<float>(labels, x, 3)
        {
            Loss = new float[1], GradEmbeddings = new float[9],
        }));

        Assert.Equal("embeddings", e.ParamName);
    }

    [Fact]
    public void Generic_entry_points_refuse_element_types_other_than_float_and_double()
    {
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu, ThreadCount = 1 });
        int[] labels = [0, 0, 1, 1];
        Half[] halves = [(Half)1, (Half)0, (Half)0, (Half)1, (Half)1, (Half)0, (Half)0, (Half)1];
        var loss = new Half[1];
        string span = Assert.Throws<NotSupportedException>(() => circle.Loss<Half>(labels, halves, 2)).Message;
        Assert.Equal("Circle computes in float32 (float) or float64 (double), not Half: convert the embeddings first.", span);
        Assert.Throws<NotSupportedException>(() => circle.Compute(labels, new Half[4, 2]));
        NotSupportedException? fromRequest = null;
        try
        {
            circle.Forward(new CircleRequest<Half>(labels, halves, 2) { Loss = loss });
        }
        catch (NotSupportedException e)
        {
            fromRequest = e;
        }

        Assert.NotNull(fromRequest);
        Assert.Throws<NotSupportedException>(() => circle.MeasureProductFloor<Half>(labels, halves, 2));
    }
}
