using System;
using CircleLoss.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace CircleLoss.TorchReference;

/// <summary>
/// Circle Loss written as a C# user would with TorchSharp: Keras 3's <c>keras.losses.circle</c> transcribed op for op
/// (docs/design.md section 1), Keras's reductions with the <c>loss &gt; 0</c> output mask, and autograd for the
/// gradients. The independent reference of the TorchSharp adapter's tests, and the hand-written loss that the
/// benchmarks and the TorchSharp sample measure the adapter against. Shared as source (linked into each project).
/// </summary>
internal static class TorchKerasCircle
{
    /// <summary>The per-sample loss l (N), Keras's formula; refs null = the batch itself. <paramref name="paper"/>:
    /// the pair weights held constant (detached), as in the paper's code.</summary>
    public static Tensor PerSample(Tensor x, Tensor labels, Tensor? r, Tensor? refLabels, double gamma, double margin, bool removeDiagonal,
        bool paper = false)
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
        if (paper)
        {
            posWeights = posWeights.detach();
            negWeights = negWeights.detach();
        }

        Tensor posDists = deltaPos - distances;
        Tensor negDists = deltaNeg - distances;
        Tensor posWDists = -1 * gamma * posWeights * posDists;
        Tensor negWDists = gamma * negWeights * negDists;

        Tensor minusInf = tensor(double.NegativeInfinity, dtype: distances.dtype);
        Tensor pLoss = where(positiveMask, posWDists, minusInf).logsumexp(1);
        Tensor nLoss = where(negativeMask, negWDists, minusInf).logsumexp(1);
        return nn.functional.softplus(pLoss + nLoss);
    }

    /// <summary>Keras's reductions of w_i·l_i with the output mask l_i &gt; 0 (a divisor of 0 gives 0).</summary>
    public static Tensor Reduce(Tensor perSample, Tensor? sampleWeights, Reduction reduction)
    {
        Tensor weights = sampleWeights ?? ones_like(perSample);
        Tensor weighted = weights * perSample;
        if (reduction == Reduction.None)
        {
            return weighted;
        }

        Tensor valid = perSample.gt(0).to_type(perSample.dtype).detach();
        Tensor total = (weighted * valid).sum();
        return reduction switch
        {
            Reduction.Sum => total,
            Reduction.MeanWithSampleWeight => DivideNoNan(total, (weights * valid).sum()),
            _ => DivideNoNan(total, valid.sum()),
        };
    }

    /// <summary>Keras's sum_over_batch_size: Σ l_i·[l_i &gt; 0] / count(l_i &gt; 0), 0 when no row counts.</summary>
    public static Tensor Reduce(Tensor perSample) => Reduce(perSample, null, Reduction.SumOverBatchSize);

    private static Tensor DivideNoNan(Tensor numerator, Tensor divisor) =>
        where(divisor.eq(0), zeros_like(numerator), numerator / where(divisor.eq(0), ones_like(divisor), divisor));
}
