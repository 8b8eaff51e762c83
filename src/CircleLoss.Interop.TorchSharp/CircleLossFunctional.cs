using System;
using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp;

/// <summary>
/// Circle Loss as a function, in the style of <c>torch.nn.functional</c>:
/// <c>using static CircleLoss.Interop.TorchSharp.CircleLossFunctional;</c> then <c>circle_loss(labels, embeddings)</c>.
/// </summary>
/// <remarks>
/// The same computation as <see cref="CircleLossModule"/>. Each distinct set of options gets one native session,
/// created on first use and kept for the life of the process (sessions hold threads and scratch memory); a training
/// loop that wants to control that lifetime uses <see cref="CircleLossModule"/>.
/// </remarks>
public static class CircleLossFunctional
{
    private static readonly ConcurrentDictionary<CircleOptions, Lazy<Circle>> Sessions = new();

    /// <summary>The circle loss of labels and embeddings, optionally against a reference set and with sample weights.</summary>
    /// <param name="labels">[N] int64 or int32 labels.</param>
    /// <param name="embeddings">[N, D] float32 or float64 embeddings, meant to be L2-normalised.</param>
    /// <param name="ref_labels">[M] reference labels of the labels' dtype; null: the labels (M = N).</param>
    /// <param name="ref_embeddings">[M, D] reference embeddings of the embeddings' dtype; null: the embeddings (M = N).</param>
    /// <param name="sample_weights">[N] weights ≥ 0 of the embeddings' dtype; null for ones.</param>
    /// <param name="gamma">The scale γ (Keras's default 80).</param>
    /// <param name="margin">The relaxation margin m (Keras's default 0.4).</param>
    /// <param name="remove_diagonal">Whether pair (i, i) is left out of the positives.</param>
    /// <param name="reduction">How the per-row losses are reduced.</param>
    /// <param name="gradient_mode">Keras's exact gradients, or the paper's.</param>
    /// <returns>The loss: a scalar, or [N] for <see cref="Reduction.None"/>; differentiable with respect to the
    /// embeddings and the reference embeddings.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong dtype, rank, shape or device (the argument is named),
    /// or an option or value was rejected.</exception>
    /// <exception cref="NotSupportedException">A tensor is on a CUDA device.</exception>
    public static Tensor circle_loss(Tensor labels, Tensor embeddings, Tensor? ref_labels = null, Tensor? ref_embeddings = null,
        Tensor? sample_weights = null, double gamma = 80, double margin = 0.4, bool remove_diagonal = true,
        Reduction reduction = Reduction.SumOverBatchSize, GradientMode gradient_mode = GradientMode.Keras)
    {
        var options = new CircleOptions
        {
            Gamma = gamma, Margin = margin, RemoveDiagonal = remove_diagonal, Reduction = reduction, GradientMode = gradient_mode,
            Backend = Backend.Cpu,
        };
        Circle circle = Sessions.GetOrAdd(options, o => new Lazy<Circle>(() => new Circle(o))).Value;
        return CircleLossFunction.Apply(labels, embeddings, ref_labels, ref_embeddings, sample_weights, circle);
    }
}
