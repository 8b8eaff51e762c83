using System;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>A batch computed in parts through the façade (<see cref="CircleRequest{T}.DiagonalOffset"/>,
/// <see cref="CircleRequest{T}.ReductionDivisor"/>, <see cref="CircleRequest{T}.ReductionTerms"/>,
/// <see cref="Circle.ReduceTerms"/>), as CircleLoss.Interop.Distributed uses them, and their errors.</summary>
public class BatchPartTests
{
    [Theory]
    [InlineData(Reduction.SumOverBatchSize)]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.MeanWithSampleWeight)]
    public void Two_parts_against_the_whole_batch_equal_one_call(Reduction reduction)
    {
        ReferenceProblem p = RandomCases.Make(seed: 11, n: 21, d: 5, weights: true, reduction: reduction);
        int n = p.N, d = p.Dimension;
        using var circle = new Circle(p.Options());
        var wholeLoss = new double[1];
        var wholeGrad = new double[n * d];
        circle.ForwardBackward(new CircleRequest<double>(p.Labels, p.Embeddings, d)
        {
            SampleWeights = p.SampleWeights, Loss = wholeLoss, GradEmbeddings = wholeGrad,
        });

        int[] starts = [0, 8, n];
        var states = new double[2][];
        double[] summed = new double[Circle.ReductionTermCount];
        for (int k = 0; k < 2; k++)
        {
            int first = starts[k], rows = starts[k + 1] - first;
            var terms = new double[Circle.ReductionTermCount];
            states[k] = new double[Circle.SavedStatePerRow * rows];
            circle.Forward(Part(p, first, rows) with { Loss = new double[1], SavedStateOutput = states[k], ReductionTerms = terms });
            summed[0] += terms[0];
            summed[1] += terms[1];
        }

        (double loss, double divisor) = Circle.ReduceTerms(reduction, summed);
        Compare.Close(wholeLoss, [loss], 1e-12, "loss");
        var grad = new double[n * d];
        for (int k = 0; k < 2; k++)
        {
            int first = starts[k], rows = starts[k + 1] - first;
            var gradRef = new double[n * d];
            var gradPart = new double[rows * d];
            circle.Backward(Part(p, first, rows) with
            {
                SavedState = states[k], ReductionDivisor = divisor, GradEmbeddings = gradPart, GradRefEmbeddings = gradRef,
            });
            for (int e = 0; e < gradPart.Length; e++)
            {
                grad[first * d + e] += gradPart[e];
            }

            for (int e = 0; e < gradRef.Length; e++)
            {
                grad[e] += gradRef[e];
            }
        }

        Compare.Close(wholeGrad, grad, 1e-12, "grad_embeddings");
    }

    [Fact]
    public void Reduction_terms_of_the_wrong_length_name_the_parameter()
    {
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu });
        var e = Assert.Throws<ArgumentException>(() => circle.Forward(new CircleRequest<double>(new[] { 0, 0, 1 }, new double[6], 2)
        {
            Loss = new double[1], ReductionTerms = new double[3],
        }));
        Assert.Equal("reductionTerms", e.ParamName);
    }

    [Fact]
    public void The_library_refuses_bad_offsets_and_divisors_with_its_message()
    {
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu });
        var offset = Assert.Throws<CircleLossArgumentException>(() => circle.Forward(new CircleRequest<double>(new[] { 0, 0, 1 }, new double[] { 1, 0, 1, 0, 0, 1 }, 2)
        {
            Loss = new double[1], DiagonalOffset = 1,
        }));
        Assert.Contains("problem->diagonal_offset must be 0 when no ref_embeddings are given", offset.Message, StringComparison.Ordinal);
        var divisor = Assert.Throws<CircleLossArgumentException>(() => circle.Forward(new CircleRequest<double>(new[] { 0, 0, 1 }, new double[] { 1, 0, 1, 0, 0, 1 }, 2)
        {
            Loss = new double[1], ReductionDivisor = -2,
        }));
        Assert.Contains("problem->reduction_divisor must be 0", divisor.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReduceTerms_applies_the_division_rule_and_refuses_None()
    {
        Assert.Equal((1.5, 4.0), Circle.ReduceTerms(Reduction.Mean, [6, 4]));
        Assert.Equal((6.0, 1.0), Circle.ReduceTerms(Reduction.Sum, [6, 3]));
        Assert.Equal((0.0, 0.0), Circle.ReduceTerms(Reduction.SumOverBatchSize, [0, 0]));
        var none = Assert.Throws<CircleLossArgumentException>(() => Circle.ReduceTerms(Reduction.None, [1, 1]));
        Assert.Contains("reduction NONE has no reduction terms", none.Message, StringComparison.Ordinal);
        var length = Assert.Throws<ArgumentException>(() => Circle.ReduceTerms(Reduction.Mean, [1]));
        Assert.Equal("summedTerms", length.ParamName);
    }

    [Fact]
    public void Label_bytes_round_trip()
    {
        long[] wide = [1L << 40, 3, -2];
        LabelSpan span = wide;
        LabelSpan back = LabelSpan.FromBytes(span.AsBytes(), int64: true);
        Assert.True(back.IsInt64);
        Assert.Equal(3, back.Length);
        Assert.Equal(24, span.AsBytes().Length);
        Assert.Throws<ArgumentException>(() => LabelSpan.FromBytes(new byte[6], int64: false));
    }

    // Rows [first, first + rows) of the batch as queries against the whole batch as references.
    private static CircleRequest<double> Part(ReferenceProblem p, int first, int rows)
    {
        int d = p.Dimension;
        return new CircleRequest<double>(p.Labels.AsSpan(first, rows).ToArray(), p.Embeddings.AsSpan(first * d, rows * d).ToArray(), d)
        {
            SampleWeights = p.SampleWeights is null ? default : p.SampleWeights.AsSpan(first, rows).ToArray(),
            RefLabels = p.Labels, RefEmbeddings = p.Embeddings, DiagonalOffset = first,
        };
    }
}
