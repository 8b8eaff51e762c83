using System;
using TorchSharp;
using static TorchSharp.torch;

namespace CircleLoss.Benchmarks;

/// <summary>
/// Circle Loss written as a C# user would with TorchSharp: Keras 3's <c>keras.losses.circle</c> transcribed op for op
/// (docs/design.md section 1), then Keras's <c>sum_over_batch_size</c> reduction with the <c>loss &gt; 0</c> output mask,
/// and autograd for the gradients.
/// </summary>
internal static class TorchCircle
{
    /// <summary>The per-sample loss l (N), Keras's formula; refs null = self-similarity.</summary>
    public static Tensor PerSample(Tensor x, Tensor labels, Tensor? r, Tensor? refLabels, double gamma, double margin, bool removeDiagonal)
    {
        Tensor refEmbeddings = r ?? x;
        Tensor keys = refLabels ?? labels;
        double optimPos = margin, optimNeg = 1 + margin, deltaPos = margin, deltaNeg = 1 - margin;

        // pairwise_cosine_distances = maximum(1 - X·Rᵀ, 0)
        Tensor distances = (1 - x.matmul(refEmbeddings.t())).relu();

        // build_pos_neg_masks: positives share the label (minus the positional diagonal), negatives do not.
        Tensor same = labels.unsqueeze(1).eq(keys.unsqueeze(0));
        Tensor positiveMask = same;
        if (removeDiagonal)
        {
            positiveMask = positiveMask.logical_and(eye(labels.shape[0], keys.shape[0], dtype: ScalarType.Bool).logical_not());
        }

        Tensor negativeMask = same.logical_not();
        Tensor positiveFloat = positiveMask.to_type(distances.dtype);
        Tensor negativeFloat = negativeMask.to_type(distances.dtype);

        Tensor posWeights = ((optimPos + distances) * positiveFloat).clamp_min(0.0);
        Tensor negWeights = ((optimNeg - distances) * negativeFloat).clamp_min(0.0);
        Tensor posDists = deltaPos - distances;
        Tensor negDists = deltaNeg - distances;
        Tensor posWDists = -1 * gamma * posWeights * posDists;
        Tensor negWDists = gamma * negWeights * negDists;

        Tensor minusInf = tensor(double.NegativeInfinity, dtype: distances.dtype);
        Tensor pLoss = where(positiveMask, posWDists, minusInf).logsumexp(1);
        Tensor nLoss = where(negativeMask, negWDists, minusInf).logsumexp(1);
        return nn.functional.softplus(pLoss + nLoss);
    }

    /// <summary>Keras's sum_over_batch_size with the output mask: Σ l_i·[l_i &gt; 0] / count(l_i &gt; 0), 0 when no row counts.</summary>
    public static Tensor Reduce(Tensor perSample)
    {
        Tensor valid = perSample.gt(0).to_type(perSample.dtype).detach();
        Tensor count = valid.sum();
        return (perSample * valid).sum() / count.clamp_min(1.0);
    }

    /// <summary>One training step's worth: the loss and the gradients (dX, and dR when refs are given), copied out.</summary>
    public static double LossAndGradients(Tensor x, Tensor labels, Tensor? r, Tensor? refLabels, double gamma, double margin, bool removeDiagonal,
        Array? gradX, Array? gradR)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor loss = Reduce(PerSample(x, labels, r, refLabels, gamma, margin, removeDiagonal));
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
