using System;
using System.Linq;
using CircleLoss.TorchReference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp.Tests;

/// <summary>How the adapter behaves inside TorchSharp's autograd: which inputs get gradients, views and slices,
/// no_grad, accumulation over calls, label types, and that no tensor is left behind.</summary>
public class BehaviourTests
{
    private const int N = 20, D = 6, M = 12;

    private static (Tensor Labels, Tensor RefLabels, double[] Rows, double[] RefRows) Problem()
    {
        (int[] labels, double[] rows) = T.Problem(seed: 21, N, D, classes: 4);
        (int[] refLabels, double[] refRows) = T.Problem(seed: 22, M, D, classes: 4);
        return (T.Labels(labels, ScalarType.Int64), T.Labels(refLabels, ScalarType.Int64), rows, refRows);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Gradients_reach_exactly_the_inputs_that_require_them(bool embeddingsRequireGrad, bool refsRequireGrad)
    {
        using var criterion = new CircleLossModule();
        using DisposeScope scope = NewDisposeScope();
        (Tensor y, Tensor ry, double[] rows, double[] refRows) = Problem();
        Tensor x = T.Matrix(rows, N, D, ScalarType.Float64, embeddingsRequireGrad);
        Tensor r = T.Matrix(refRows, M, D, ScalarType.Float64, refsRequireGrad);
        Tensor xRef = T.Matrix(rows, N, D, ScalarType.Float64, requiresGrad: true), rRef = T.Matrix(refRows, M, D, ScalarType.Float64, requiresGrad: true);

        Tensor loss = criterion.forward(y, x, ry, r);
        TorchKerasCircle.Reduce(TorchKerasCircle.PerSample(xRef, y, rRef, ry, 80, 0.4, true)).backward();

        Assert.Equal(embeddingsRequireGrad || refsRequireGrad, loss.requires_grad);
        if (loss.requires_grad)
        {
            loss.backward();
        }

        Assert.Equal(embeddingsRequireGrad, x.grad is not null);
        Assert.Equal(refsRequireGrad, r.grad is not null);
        if (embeddingsRequireGrad)
        {
            T.Close(xRef.grad!, x.grad!, 1e-10, "grad_embeddings");
        }

        if (refsRequireGrad)
        {
            T.Close(rRef.grad!, r.grad!, 1e-10, "grad_ref_embeddings");
        }
    }

    [Fact]
    public void Sliced_transposed_and_offset_inputs_give_the_results_of_contiguous_copies()
    {
        using var criterion = new CircleLossModule(reduction: Reduction.Sum);
        using DisposeScope scope = NewDisposeScope();
        (Tensor y, Tensor ry, double[] rows, double[] refRows) = Problem();
        Tensor plain = T.Matrix(rows, N, D, ScalarType.Float32, requiresGrad: true);
        Tensor plainRefs = T.Matrix(refRows, M, D, ScalarType.Float32, requiresGrad: true);
        criterion.forward(y, plain, ry, plainRefs).backward();

        // Columns 3..3+D of a wider leaf (not contiguous), the rows 5..5+M of a taller one (contiguous, at an offset),
        // and labels every other element of a longer tensor (a strided view).
        Tensor wide = zeros(N, D + 7, dtype: ScalarType.Float32);
        wide.narrow(1, 3, D).copy_(plain.detach());
        wide.requires_grad_(true);
        Tensor tall = zeros(M + 9, D, dtype: ScalarType.Float32);
        tall.narrow(0, 5, M).copy_(plainRefs.detach());
        tall.requires_grad_(true);
        Tensor spread = stack([y, full_like(y, -1)], 1).reshape(-1);
        Tensor x = wide.narrow(1, 3, D), r = tall.narrow(0, 5, M), strided = spread.slice(0, 0, 2 * N, 2);
        Assert.False(x.is_contiguous());
        Assert.True(r.is_contiguous());
        Assert.False(strided.is_contiguous());

        Tensor loss = criterion.forward(strided, x, ry, r);
        loss.backward();

        T.Equal(criterion.forward(y, plain.detach(), ry, plainRefs.detach()), loss.detach());
        T.Equal(plain.grad!, wide.grad!.narrow(1, 3, D));
        T.Equal(plainRefs.grad!, tall.grad!.narrow(0, 5, M));
        Assert.Equal(0.0, T.Values(wide.grad!.narrow(1, 0, 3)).Sum(Math.Abs));
        Assert.Equal(0.0, T.Values(tall.grad!.narrow(0, 0, 5)).Sum(Math.Abs));
    }

    [Fact]
    public void Int32_and_int64_labels_give_the_same_results()
    {
        using var criterion = new CircleLossModule(reduction: Reduction.None);
        using DisposeScope scope = NewDisposeScope();
        (Tensor y, Tensor ry, double[] rows, double[] refRows) = Problem();
        Tensor x64 = T.Matrix(rows, N, D, ScalarType.Float64, requiresGrad: true), x32 = T.Matrix(rows, N, D, ScalarType.Float64, requiresGrad: true);
        Tensor r = T.Matrix(refRows, M, D, ScalarType.Float64);

        Tensor a = criterion.forward(y, x64, ry, r);
        Tensor b = criterion.forward(y.to_type(ScalarType.Int32), x32, ry.to_type(ScalarType.Int32), r);
        a.sum().backward();
        b.sum().backward();

        T.Close(a, b, 1e-15, "loss");
        T.Close(x64.grad!, x32.grad!, 1e-13, "grad_embeddings");
    }

    [Fact]
    public void Under_no_grad_only_the_forward_pass_runs()
    {
        using var criterion = new CircleLossModule();
        using DisposeScope scope = NewDisposeScope();
        (Tensor y, _, double[] rows, _) = Problem();
        Tensor x = T.Matrix(rows, N, D, ScalarType.Float32, requiresGrad: true);
        Tensor withGrad = criterion.call(y, x);

        Tensor withoutGrad;
        using (no_grad())
        {
            withoutGrad = criterion.call(y, x);
        }

        Assert.True(withGrad.requires_grad);
        Assert.False(withoutGrad.requires_grad);
        T.Equal(withGrad.detach(), withoutGrad);
    }

    [Fact]
    public void Gradients_accumulate_over_two_calls()
    {
        using var criterion = new CircleLossModule(reduction: Reduction.None);
        using DisposeScope scope = NewDisposeScope();
        (Tensor y, Tensor ry, double[] rows, double[] refRows) = Problem();
        Tensor x = T.Matrix(rows, N, D, ScalarType.Float64, requiresGrad: true), once = T.Matrix(rows, N, D, ScalarType.Float64, requiresGrad: true);
        Tensor r = T.Matrix(refRows, M, D, ScalarType.Float64, requiresGrad: true);

        criterion.forward(y, x, ry, r).sum().backward();
        criterion.forward(y, x, ry, r).mul(3.0).sum().backward();
        criterion.forward(y, once, ry, r.detach()).sum().backward();

        T.Close(once.grad!.mul(4.0), x.grad!, 1e-14, "grad_embeddings after two calls");
    }

    [Fact]
    public void A_call_leaves_no_tensor_behind_inside_a_dispose_scope()
    {
        using var criterion = new CircleLossModule();
        (Tensor y, Tensor ry, double[] rows, double[] refRows) = Problem();
        using Tensor x = T.Matrix(rows, N, D, ScalarType.Float32, requiresGrad: true);
        using Tensor r = T.Matrix(refRows, M, D, ScalarType.Float32, requiresGrad: true);
        using (NewDisposeScope())
        {
            criterion.forward(y, x, ry, r).backward();  // warm-up: LibTorch's own lazily created tensors
        }

        x.grad!.zero_();
        long before = T.LiveTensors();
        using (NewDisposeScope())
        {
            criterion.forward(y, x, ry, r).backward();
            criterion.forward(y, x, ry, r.detach()).backward();
        }

        Assert.Equal(before, T.LiveTensors());
        y.Dispose();
        ry.Dispose();
    }

    [Fact]
    public void A_forward_call_outside_a_dispose_scope_creates_only_the_loss()
    {
        // Evaluation outside a dispose scope: the loss is the only tensor a call leaves, non-contiguous inputs
        // included. (With gradients, TorchSharp's custom-function machinery wraps grad_output and the returned
        // gradients in tensors of its own, which a dispose scope around the training step frees.)
        using var criterion = new CircleLossModule(reduction: Reduction.None);
        (Tensor y, Tensor ry, double[] rows, double[] refRows) = Problem();
        using Tensor x = T.Matrix(rows, N, D, ScalarType.Float64, requiresGrad: true);
        using Tensor r = T.Matrix(refRows, M, D, ScalarType.Float64);
        using Tensor wide = zeros(N, D + 2, dtype: ScalarType.Float64);
        using Tensor view = wide.narrow(1, 1, D);
        using (no_grad())
        {
            criterion.forward(y, x, ry, r).Dispose();  // warm-up
            long before = T.LiveTensors();
            Tensor loss = criterion.forward(y, x, ry, r);
            Assert.Equal(before + 1, T.LiveTensors());
            loss.Dispose();
            criterion.forward(y, view, ry, r).Dispose();
            Assert.Equal(before, T.LiveTensors());
        }

        y.Dispose();
        ry.Dispose();
    }
}
