using System;
using TorchSharp;
using static TorchSharp.torch;
using CircleLoss.TorchReference;

namespace CircleLoss.Benchmarks;

/// <summary>
/// The hand-written TorchSharp loss (tests/Shared/TorchKerasCircle.cs: Keras's formula op for op with
/// sum_over_batch_size and the output mask) as one training step's worth of work for the benchmarks.
/// </summary>
internal static class TorchCircle
{
    /// <summary>One training step's worth: the loss and the gradients (dX, and dR when refs are given), copied out.</summary>
    public static double LossAndGradients(Tensor x, Tensor labels, Tensor? r, Tensor? refLabels, double gamma, double margin, bool removeDiagonal,
        Array? gradX, Array? gradR)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor loss = TorchKerasCircle.Reduce(TorchKerasCircle.PerSample(x, labels, r, refLabels, gamma, margin, removeDiagonal));
        var inputs = r is null ? new[] { x } : new[] { x, r };
        var grads = autograd.grad(new[] { loss }, inputs);
        if (gradX is not null)
        {
            CopyOut(grads[0], gradX);
        }

        if (gradR is not null && r is not null)
        {
            CopyOut(grads[1], gradR);
        }

        return loss.to_type(ScalarType.Float64).item<double>();
    }

    private static void CopyOut(Tensor t, Array destination)
    {
        switch (destination)
        {
            case float[] f: Array.Copy(t.contiguous().data<float>().ToArray(), f, f.Length); break;
            case double[] d: Array.Copy(t.contiguous().data<double>().ToArray(), d, d.Length); break;
            default: throw new ArgumentException("float[] or double[] expected", nameof(destination));
        }
    }
}
