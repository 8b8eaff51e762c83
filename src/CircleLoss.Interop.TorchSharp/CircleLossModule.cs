using System;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp;

/// <summary>
/// Circle Loss as a TorchSharp module, with exactly the semantics of Keras 3's <c>keras.losses.Circle</c>:
/// <c>loss = criterion.call(labels, embeddings)</c>, then <c>loss.backward()</c> sends the gradients to the model.
/// </summary>
/// <remarks>
/// <para>Labels are int64 (TorchSharp's default) or int32 tensors [N]; embeddings float32 or float64 tensors [N, D] on the
/// CPU, meant to be L2-normalised (<c>functional.normalize(x, dim: 1)</c>). Contiguous tensors, slices included, are
/// read in place; others are made contiguous once. The loss has the embeddings' dtype: a scalar, or [N] for
/// <see cref="Reduction.None"/>. Reference sets (a cross-batch memory) and sample weights go through
/// <see cref="forward(Tensor, Tensor, Tensor?, Tensor?, Tensor?)"/>. Gradients flow to the embeddings and the reference
/// embeddings when they require grad; none flows to labels or sample weights.</para>
/// <para>The module owns a native session (threads and scratch memory): dispose it when done. One module may be called
/// from several threads at once.</para>
/// </remarks>
public sealed class CircleLossModule : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Circle _circle;

    /// <summary>A circle loss with Keras's parameters.</summary>
    /// <param name="gamma">The scale γ (Keras's default 80).</param>
    /// <param name="margin">The relaxation margin m (Keras's default 0.4).</param>
    /// <param name="remove_diagonal">Whether pair (i, i) is left out of the positives (Keras's default true).</param>
    /// <param name="reduction">How the per-row losses are reduced (Keras's default: sum over the rows with a positive loss, divided by their count).</param>
    /// <param name="gradient_mode">Keras's exact gradients, or the paper's with the pair weights held constant.</param>
    /// <param name="num_threads">The native library's CPU threads; 0 for one per hardware thread.</param>
    /// <exception cref="CircleLossArgumentException">The library rejected an option (<see cref="CircleLossArgumentException.NativeArgument"/> names it).</exception>
    public CircleLossModule(double gamma = 80, double margin = 0.4, bool remove_diagonal = true,
        Reduction reduction = Reduction.SumOverBatchSize, GradientMode gradient_mode = GradientMode.Keras, int num_threads = 0)
        : this(new CircleOptions
        {
            Gamma = gamma, Margin = margin, RemoveDiagonal = remove_diagonal, Reduction = reduction, GradientMode = gradient_mode,
            Backend = Backend.Cpu, ThreadCount = num_threads,
        })
    {
    }

    /// <summary>A circle loss with every option of CircleLoss.Interop (backend, threads, workspace limit, ...).</summary>
    /// <param name="options">The options.</param>
    /// <param name="logger">Where the native session logs (backend choice, fallbacks); null for none.</param>
    public CircleLossModule(CircleOptions options, ILogger? logger = null)
        : base("CircleLoss")
    {
        ArgumentNullException.ThrowIfNull(options);
        _circle = new Circle(options, logger);
    }

    /// <summary>The options this loss computes with.</summary>
    public CircleOptions Options => _circle.Options;

    /// <summary>The loss of a batch against itself (every row is a query and a reference).</summary>
    /// <param name="labels">[N] int64 or int32 labels.</param>
    /// <param name="embeddings">[N, D] float32 or float64 embeddings.</param>
    /// <returns>The loss: a scalar, or [N] for <see cref="Reduction.None"/>.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong dtype, rank, shape or device (the argument is named),
    /// or the library rejected a value.</exception>
    /// <exception cref="NotSupportedException">A tensor is on a CUDA device.</exception>
    public override Tensor forward(Tensor labels, Tensor embeddings) => forward(labels, embeddings, null);

    /// <summary>The loss of a batch against a reference set, with sample weights.</summary>
    /// <param name="labels">[N] int64 or int32 labels.</param>
    /// <param name="embeddings">[N, D] float32 or float64 embeddings.</param>
    /// <param name="ref_labels">[M] reference labels of the labels' dtype; null: the labels (M = N).</param>
    /// <param name="ref_embeddings">[M, D] reference embeddings of the embeddings' dtype; null: the embeddings (M = N).</param>
    /// <param name="sample_weights">[N] weights ≥ 0 of the embeddings' dtype; null for ones.</param>
    /// <returns>The loss: a scalar, or [N] for <see cref="Reduction.None"/>.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong dtype, rank, shape or device (the argument is named),
    /// or the library rejected a value.</exception>
    /// <exception cref="NotSupportedException">A tensor is on a CUDA device.</exception>
    public Tensor forward(Tensor labels, Tensor embeddings, Tensor? ref_labels, Tensor? ref_embeddings = null, Tensor? sample_weights = null) =>
        CircleLossFunction.Apply(labels, embeddings, ref_labels, ref_embeddings, sample_weights, _circle);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _circle.Dispose();
        }

        base.Dispose(disposing);
    }
}
