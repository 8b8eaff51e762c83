using System;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using CircleLoss.TorchReference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp.Tests;

/// <summary>The adapter against independent truth: the golden cases (float64 autodiff of Keras's formula) and the same
/// formula written literally with TorchSharp ops and autograd, over every reduction, sample weights, reference sets,
/// both gradient modes, both precisions and both label types.</summary>
public class CorrectnessTests
{
    public static TheoryData<string, ScalarType, ScalarType, GradientMode> GoldenCases()
    {
        var data = new TheoryData<string, ScalarType, ScalarType, GradientMode>();
        foreach (string name in GoldenCase.Names())
        {
            data.Add(name, ScalarType.Float64, ScalarType.Int64, GradientMode.Keras);
            data.Add(name, ScalarType.Float64, ScalarType.Int32, GradientMode.Paper);
            data.Add(name, ScalarType.Float32, ScalarType.Int64, GradientMode.Paper);
            data.Add(name, ScalarType.Float32, ScalarType.Int32, GradientMode.Keras);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Golden_cases(string name, ScalarType dtype, ScalarType labelType, GradientMode mode)
    {
        GoldenCase c = GoldenCase.Load(name);
        GoldenExpected e = c.Expected(mode);
        double lossTolerance = dtype == ScalarType.Float64 ? 1e-10 : 1e-5, gradTolerance = dtype == ScalarType.Float64 ? 1e-10 : 1e-4;
        using var criterion = new CircleLossModule(c.Gamma, c.Margin, c.RemoveDiagonal, c.Reduction, mode);
        using DisposeScope scope = NewDisposeScope();
        Tensor x = T.Matrix(c.Embeddings, c.N, c.Dimension, dtype, requiresGrad: true);
        Tensor? r = c.RefEmbeddings is null ? null : T.Matrix(c.RefEmbeddings, c.M, c.Dimension, dtype, requiresGrad: true);
        Tensor labels = T.Labels(c.Labels, labelType);
        Tensor? refLabels = c.RefLabels is null ? null : T.Labels(c.RefLabels, labelType);
        Tensor? weights = c.SampleWeights is null ? null : T.Vector(c.SampleWeights, dtype);

        Tensor loss = criterion.forward(labels, x, refLabels, r, weights);
        Tensor upstream = c.Upstream is null ? ones_like(loss) : T.Vector(c.Upstream, dtype).reshape(loss.shape);
        loss.backward([upstream]);

        Assert.Equal(dtype, loss.dtype);
        T.Close(e.Loss, loss.reshape(-1), lossTolerance, "loss");
        T.Close(e.GradEmbeddings, x.grad!, gradTolerance, "grad_embeddings");
        if (r is not null)
        {
            T.Close(e.GradRefEmbeddings!, r.grad!, gradTolerance, "grad_ref_embeddings");
        }
    }

    public static TheoryData<Reduction, bool, string, GradientMode, ScalarType> ReferenceCases()
    {
        var data = new TheoryData<Reduction, bool, string, GradientMode, ScalarType>();
        foreach (Reduction reduction in Enum.GetValues<Reduction>())
        {
            foreach (string refs in new[] { "self", "references", "ref_labels", "ref_embeddings" })
            {
                data.Add(reduction, true, refs, GradientMode.Keras, ScalarType.Float64);
                data.Add(reduction, false, refs, GradientMode.Paper, ScalarType.Float64);
            }

            data.Add(reduction, true, "references", GradientMode.Keras, ScalarType.Float32);
            data.Add(reduction, true, "self", GradientMode.Paper, ScalarType.Float32);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Matches_the_literal_TorchSharp_formula(Reduction reduction, bool weighted, string refs, GradientMode mode, ScalarType dtype)
    {
        const int n = 24, m = 30, d = 8;
        (int[] labels, double[] rows) = T.Problem(seed: 11, n, d, classes: 4);
        (int[] refLabels, double[] refRows) = T.Problem(seed: 12, refs == "references" ? m : n, d, classes: 4);
        var weights = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? 0.0 : 0.5 + (i % 3)).ToArray();
        bool givesRefLabels = refs is "references" or "ref_labels", givesRefEmbeddings = refs is "references" or "ref_embeddings";
        int rowsOfRefs = refs == "references" ? m : n;
        using var criterion = new CircleLossModule(gamma: 64, margin: 0.25, remove_diagonal: true, reduction, mode);
        using DisposeScope scope = NewDisposeScope();
        Tensor y = T.Labels(labels, ScalarType.Int64);
        Tensor? ry = givesRefLabels ? T.Labels(refLabels, ScalarType.Int64) : null;
        Tensor? w = weighted ? T.Vector(weights, dtype) : null;
        Tensor x1 = T.Matrix(rows, n, d, dtype, requiresGrad: true), x2 = T.Matrix(rows, n, d, dtype, requiresGrad: true);
        Tensor? r1 = givesRefEmbeddings ? T.Matrix(refRows, rowsOfRefs, d, dtype, requiresGrad: true) : null;
        Tensor? r2 = givesRefEmbeddings ? T.Matrix(refRows, rowsOfRefs, d, dtype, requiresGrad: true) : null;
        // A non-trivial upstream: a vector for None, a scalar otherwise.
        Tensor upstream = reduction == Reduction.None ? linspace(-1.0, 2.0, n, dtype: dtype) : tensor(0.75, dtype: dtype);

        Tensor ours = criterion.forward(y, x1, ry, r1, w);
        ours.backward([upstream]);
        Tensor reference = TorchKerasCircle.Reduce(
            TorchKerasCircle.PerSample(x2, y, r2, ry, gamma: 64, margin: 0.25, removeDiagonal: true, paper: mode == GradientMode.Paper),
            w, reduction);
        reference.backward([upstream]);

        double lossTolerance = dtype == ScalarType.Float64 ? 1e-12 : 1e-5, gradTolerance = dtype == ScalarType.Float64 ? 1e-10 : 1e-4;
        Assert.Equal(reference.shape, ours.shape);
        T.Close(reference, ours, lossTolerance, "loss");
        T.Close(x2.grad!, x1.grad!, gradTolerance, "grad_embeddings");
        if (r1 is not null)
        {
            T.Close(r2!.grad!, r1.grad!, gradTolerance, "grad_ref_embeddings");
        }
    }

    [Fact]
    public void The_functional_form_and_the_module_agree()
    {
        (int[] labels, double[] rows) = T.Problem(seed: 3, n: 16, d: 6, classes: 3);
        using var criterion = new CircleLossModule(gamma: 32, margin: 0.3, reduction: Reduction.Sum);
        using DisposeScope scope = NewDisposeScope();
        Tensor y = T.Labels(labels, ScalarType.Int64);
        Tensor x1 = T.Matrix(rows, 16, 6, ScalarType.Float32, requiresGrad: true), x2 = T.Matrix(rows, 16, 6, ScalarType.Float32, requiresGrad: true);

        criterion.call(y, x1).backward();
        CircleLossFunctional.circle_loss(y, x2, gamma: 32, margin: 0.3, reduction: Reduction.Sum).backward();

        T.Equal(x1.grad!, x2.grad!);
        Assert.Equal(32, criterion.Options.Gamma);
    }
}
