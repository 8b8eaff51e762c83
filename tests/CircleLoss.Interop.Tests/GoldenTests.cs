using System;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>Every golden case (tests/data/golden) through the public API, in float32 and float64, both gradient modes.</summary>
public class GoldenTests
{
    private const double Float64Tolerance = 1e-10;
    private const double Float32LossTolerance = 1e-5;
    private const double Float32GradientTolerance = 1e-4;

    public static TheoryData<string, GradientMode, Backend> Cases()
    {
        var data = new TheoryData<string, GradientMode, Backend>();
        foreach (string name in GoldenCase.Names())
        {
            foreach (GradientMode mode in new[] { GradientMode.Keras, GradientMode.Paper })
            {
                foreach (Backend backend in NativeRun.Backends())
                {
                    data.Add(name, mode, backend);
                }
            }
        }

        return data;
    }

    [Fact]
    public void The_golden_cases_are_there()
    {
        // Guards the theories below against an empty data set (a missing link in the project file).
        Assert.True(GoldenCase.Names().Count() >= 30, "expected the golden cases in " + TestEnvironment.GoldenDir);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_forward_backward_matches_golden(string name, GradientMode mode, Backend backend)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        using var circle = new Circle(c.Options(mode, backend));
        var loss = new double[circle.LossLength(c.N)];
        var perSample = new double[c.N];
        var mask = new bool[c.N];
        var grad = new double[c.N * c.Dimension];
        double[]? gradRef = c.RefEmbeddings is null ? null : new double[c.M * c.Dimension];

        circle.ForwardBackward(c.Labels, c.Embeddings, c.Dimension, loss, grad, gradRef, perSample, mask, c.Upstream,
            c.SampleWeights, c.RefLabels, c.RefEmbeddings);

        Compare.Close(e.Loss, loss, Float64Tolerance, "loss");
        Compare.Close(e.PerSampleLoss, perSample, Float64Tolerance, "per_sample_loss");
        Assert.Equal(e.Mask, mask);
        Compare.Close(e.GradEmbeddings, grad, Float64Tolerance, "grad_embeddings");
        if (e.GradRefEmbeddings is null)
        {
            Assert.Null(gradRef);
        }
        else
        {
            Compare.Close(e.GradRefEmbeddings, gradRef!, Float64Tolerance, "grad_ref_embeddings");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32_forward_backward_matches_golden(string name, GradientMode mode, Backend backend)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        using var circle = new Circle(c.Options(mode, backend));
        var loss = new float[circle.LossLength(c.N)];
        var perSample = new float[c.N];
        var mask = new bool[c.N];
        var grad = new float[c.N * c.Dimension];
        float[]? gradRef = c.RefEmbeddings is null ? null : new float[c.M * c.Dimension];

        circle.ForwardBackward(c.Labels, c.Embeddings.ToSingle(), c.Dimension, loss, grad, gradRef, perSample, mask,
            c.Upstream?.ToSingle(), c.SampleWeights?.ToSingle(), c.RefLabels, c.RefEmbeddings?.ToSingle());

        Compare.Close(e.Loss, loss, Float32LossTolerance, "loss");
        Compare.Close(e.PerSampleLoss, perSample, Float32LossTolerance, "per_sample_loss");
        Assert.Equal(e.Mask, mask);
        Compare.Close(e.GradEmbeddings, grad, Float32GradientTolerance, "grad_embeddings");
        if (e.GradRefEmbeddings is not null)
        {
            Compare.Close(e.GradRefEmbeddings, gradRef!, Float32GradientTolerance, "grad_ref_embeddings");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_forward_then_backward_matches_golden(string name, GradientMode mode, Backend backend)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        using var circle = new Circle(c.Options(mode, backend));
        var loss = new double[circle.LossLength(c.N)];
        var state = new double[Circle.SavedStateLength(c.N)];
        var perSample = new double[c.N];
        var mask = new bool[c.N];
        circle.Forward(c.Labels, c.Embeddings, c.Dimension, loss, perSample, mask, state, c.SampleWeights, c.RefLabels, c.RefEmbeddings);

        var grad = new double[c.N * c.Dimension];
        double[]? gradRef = c.RefEmbeddings is null ? null : new double[c.M * c.Dimension];
        circle.Backward(c.Labels, c.Embeddings, c.Dimension, state, grad, gradRef, c.Upstream, c.SampleWeights, c.RefLabels, c.RefEmbeddings);

        Compare.Close(e.Loss, loss, Float64Tolerance, "loss");
        Compare.Close(e.PerSampleLoss, perSample, Float64Tolerance, "per_sample_loss");
        Assert.Equal(e.Mask, mask);
        Compare.Close(e.GradEmbeddings, grad, Float64Tolerance, "grad_embeddings");
        if (e.GradRefEmbeddings is not null)
        {
            Compare.Close(e.GradRefEmbeddings, gradRef!, Float64Tolerance, "grad_ref_embeddings");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32_forward_then_backward_matches_golden(string name, GradientMode mode, Backend backend)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        using var circle = new Circle(c.Options(mode, backend));
        float[] embeddings = c.Embeddings.ToSingle();
        float[]? weights = c.SampleWeights?.ToSingle();
        float[]? refEmbeddings = c.RefEmbeddings?.ToSingle();
        var loss = new float[circle.LossLength(c.N)];
        var state = new float[Circle.SavedStateLength(c.N)];
        circle.Forward(c.Labels, embeddings, c.Dimension, loss, savedState: state, sampleWeights: weights, refLabels: c.RefLabels, refEmbeddings: refEmbeddings);

        var grad = new float[c.N * c.Dimension];
        float[]? gradRef = c.RefEmbeddings is null ? null : new float[c.M * c.Dimension];
        circle.Backward(c.Labels, embeddings, c.Dimension, state, grad, gradRef, c.Upstream?.ToSingle(), weights, c.RefLabels, refEmbeddings);

        Compare.Close(e.Loss, loss, Float32LossTolerance, "loss");
        Compare.Close(e.GradEmbeddings, grad, Float32GradientTolerance, "grad_embeddings");
        if (e.GradRefEmbeddings is not null)
        {
            Compare.Close(e.GradRefEmbeddings, gradRef!, Float32GradientTolerance, "grad_ref_embeddings");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matrix_overloads_match_golden(string name, GradientMode mode, Backend backend)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        using var circle = new Circle(c.Options(mode, backend));
        double[,] embeddings = ToMatrix(c.Embeddings, c.N, c.Dimension);
        double[,]? refEmbeddings = c.RefEmbeddings is null ? null : ToMatrix(c.RefEmbeddings, c.M, c.Dimension);

        CircleResult<double> result = circle.Compute(c.Labels, embeddings, gradients: true, c.SampleWeights, c.RefLabels, refEmbeddings, c.Upstream);

        Compare.Close(e.Loss, result.Loss, Float64Tolerance, "loss");
        Compare.Close(e.PerSampleLoss, result.PerSampleLoss, Float64Tolerance, "per_sample_loss");
        Assert.Equal(e.Mask, result.Mask);
        Compare.Close(e.GradEmbeddings, Flatten(result.GradEmbeddings!), Float64Tolerance, "grad_embeddings");
        if (e.GradRefEmbeddings is null)
        {
            Assert.Null(result.GradRefEmbeddings);
        }
        else
        {
            Compare.Close(e.GradRefEmbeddings, Flatten(result.GradRefEmbeddings!), Float64Tolerance, "grad_ref_embeddings");
        }

        if (c.Reduction != Reduction.None)
        {
            // The scalar conveniences, in both precisions.
            Assert.Equal(e.Loss[0], circle.Loss(c.Labels, embeddings, c.SampleWeights, c.RefLabels, refEmbeddings), Float64Tolerance * Math.Max(1, Math.Abs(e.Loss[0])));
            float loss32 = circle.Loss(c.Labels, c.Embeddings.ToSingle(), c.Dimension, c.SampleWeights?.ToSingle(), c.RefLabels, c.RefEmbeddings?.ToSingle());
            Assert.Equal(e.Loss[0], loss32, Float32LossTolerance * Math.Max(1, Math.Abs(e.Loss[0])));
            var grad32 = new float[c.N * c.Dimension];
            float[]? gradRef32 = c.RefEmbeddings is null ? null : new float[c.M * c.Dimension];
            float lossWithGradients = circle.LossAndGradients(c.Labels, c.Embeddings.ToSingle(), c.Dimension, grad32, gradRef32,
                c.SampleWeights?.ToSingle(), c.RefLabels, c.RefEmbeddings?.ToSingle());
            Assert.Equal(e.Loss[0], lossWithGradients, Float32LossTolerance * Math.Max(1, Math.Abs(e.Loss[0])));
            Compare.Close(e.GradEmbeddings, grad32, Float32GradientTolerance, "grad_embeddings (LossAndGradients)");
        }
    }

    internal static double[,] ToMatrix(double[] values, int rows, int columns)
    {
        var matrix = new double[rows, columns];
        Buffer.BlockCopy(values, 0, matrix, 0, values.Length * sizeof(double));
        return matrix;
    }

    internal static double[] Flatten(double[,] matrix) => matrix.Cast<double>().ToArray();
}
