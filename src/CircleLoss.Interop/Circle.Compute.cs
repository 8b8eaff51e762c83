using System;
using System.Numerics;

namespace CircleLoss.Interop;

// The public computations over spans and arrays, generic over float (float32) and double (float64). Each one
// validates shapes, pins and calls through Execute.
public sealed partial class Circle
{
    /// <summary>The reduced loss (Keras's <c>loss(y_true, y_pred, sample_weight)</c>).</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="sampleWeights">N weights ≥ 0, or empty for all ones.</param>
    /// <param name="refLabels">M reference labels, or empty (see the remarks of <see cref="Circle"/>).</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or empty (see the remarks of <see cref="Circle"/>).</param>
    /// <returns>The loss, reduced as <see cref="CircleOptions.Reduction"/> says.</returns>
    /// <exception cref="InvalidOperationException">The reduction is <see cref="Interop.Reduction.None"/>: use
    /// <see cref="Forward{T}(ReadOnlySpan{int}, ReadOnlySpan{T}, int, Span{T}, Span{T}, Span{bool}, Span{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T})"/>.</exception>
    /// <exception cref="ArgumentException">A length does not match N, D or M (the parameter is named), or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public T Loss<T>(ReadOnlySpan<int> labels, ReadOnlySpan<T> embeddings, int dimension,
        ReadOnlySpan<T> sampleWeights = default, ReadOnlySpan<int> refLabels = default, ReadOnlySpan<T> refEmbeddings = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireScalarReduction(nameof(Loss));
        T result = T.Zero;
        var call = new Call<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = !refLabels.IsEmpty, RefEmbeddings = refEmbeddings, HasRefEmbeddings = !refEmbeddings.IsEmpty,
            Loss = new Span<T>(ref result),
        };
        Execute(Operation.Forward, ref call);
        return result;
    }

    /// <summary>The forward pass: the loss, and optionally the per-sample losses, the mask and the state
    /// <see cref="Backward{T}(ReadOnlySpan{int}, ReadOnlySpan{T}, int, ReadOnlySpan{T}, Span{T}, Span{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T})"/> needs.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="loss">Receives the loss: 1 value, or N values <c>w_i · l_i</c> for <see cref="Interop.Reduction.None"/>
    /// (see <see cref="LossLength"/>).</param>
    /// <param name="perSampleLoss">Receives the N unweighted losses <c>l_i</c>; empty to skip.</param>
    /// <param name="mask">Receives Keras's output mask, <c>l_i &gt; 0</c> (N values); empty to skip.</param>
    /// <param name="savedState">Receives <see cref="SavedStatePerRow"/>·N values for <c>Backward</c>; empty to skip.
    /// It is plain data the caller owns: valid for as long as the caller keeps it, for the same inputs and a
    /// <see cref="Circle"/> with the same options.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or empty for all ones.</param>
    /// <param name="refLabels">M reference labels, or empty.</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or empty.</param>
    /// <exception cref="ArgumentException">A length does not match N, D or M, outputs overlap inputs, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void Forward<T>(ReadOnlySpan<int> labels, ReadOnlySpan<T> embeddings, int dimension,
        Span<T> loss, Span<T> perSampleLoss = default, Span<bool> mask = default, Span<T> savedState = default,
        ReadOnlySpan<T> sampleWeights = default, ReadOnlySpan<int> refLabels = default, ReadOnlySpan<T> refEmbeddings = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new Call<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = !refLabels.IsEmpty, RefEmbeddings = refEmbeddings, HasRefEmbeddings = !refEmbeddings.IsEmpty,
            Loss = loss, PerSampleLoss = perSampleLoss, Mask = mask, SavedStateOut = savedState,
        };
        Execute(Operation.Forward, ref call);
    }

    /// <summary>The reduced loss and its gradients in one pass.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="gradEmbeddings">Receives d loss / d embeddings (N×D); through both roles when no
    /// <paramref name="refEmbeddings"/> are given.</param>
    /// <param name="gradRefEmbeddings">Receives d loss / d refEmbeddings (M×D) when <paramref name="refEmbeddings"/>
    /// is given; must be empty otherwise.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or empty for all ones.</param>
    /// <param name="refLabels">M reference labels, or empty.</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or empty.</param>
    /// <returns>The loss, reduced as <see cref="CircleOptions.Reduction"/> says.</returns>
    /// <exception cref="InvalidOperationException">The reduction is <see cref="Interop.Reduction.None"/>: use
    /// <see cref="ForwardBackward{T}(ReadOnlySpan{int}, ReadOnlySpan{T}, int, Span{T}, Span{T}, Span{T}, Span{T}, Span{bool}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T})"/> with an upstream gradient.</exception>
    /// <exception cref="ArgumentException">A length does not match N, D or M, outputs overlap inputs, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public T LossAndGradients<T>(ReadOnlySpan<int> labels, ReadOnlySpan<T> embeddings, int dimension,
        Span<T> gradEmbeddings, Span<T> gradRefEmbeddings = default,
        ReadOnlySpan<T> sampleWeights = default, ReadOnlySpan<int> refLabels = default, ReadOnlySpan<T> refEmbeddings = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireScalarReduction(nameof(LossAndGradients));
        T result = T.Zero;
        var call = new Call<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = !refLabels.IsEmpty, RefEmbeddings = refEmbeddings, HasRefEmbeddings = !refEmbeddings.IsEmpty,
            Loss = new Span<T>(ref result), GradEmbeddings = gradEmbeddings, GradRefEmbeddings = gradRefEmbeddings,
        };
        Execute(Operation.ForwardBackward, ref call);
        return result;
    }

    /// <summary>Forward and backward in one call (what most callers want): the loss, optionally the
    /// per-sample losses and the mask, and the gradients scaled by an upstream gradient.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="loss">Receives the loss: 1 value, or N values for <see cref="Interop.Reduction.None"/>.</param>
    /// <param name="gradEmbeddings">Receives the gradient with respect to the embeddings (N×D).</param>
    /// <param name="gradRefEmbeddings">Receives the gradient with respect to <paramref name="refEmbeddings"/> (M×D)
    /// when they are given; must be empty otherwise.</param>
    /// <param name="perSampleLoss">Receives the N unweighted losses; empty to skip.</param>
    /// <param name="mask">Receives the output mask (N values); empty to skip.</param>
    /// <param name="upstream">The gradient of the output: N values for <see cref="Interop.Reduction.None"/>
    /// (the gradients are then those of <c>Σ upstream_i · loss_i</c>), 1 value otherwise; empty for ones.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or empty for all ones.</param>
    /// <param name="refLabels">M reference labels, or empty.</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or empty.</param>
    /// <exception cref="ArgumentException">A length does not match N, D or M, outputs overlap inputs, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void ForwardBackward<T>(ReadOnlySpan<int> labels, ReadOnlySpan<T> embeddings, int dimension,
        Span<T> loss, Span<T> gradEmbeddings, Span<T> gradRefEmbeddings = default,
        Span<T> perSampleLoss = default, Span<bool> mask = default, ReadOnlySpan<T> upstream = default,
        ReadOnlySpan<T> sampleWeights = default, ReadOnlySpan<int> refLabels = default, ReadOnlySpan<T> refEmbeddings = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new Call<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = !refLabels.IsEmpty, RefEmbeddings = refEmbeddings, HasRefEmbeddings = !refEmbeddings.IsEmpty,
            Upstream = upstream, Loss = loss, PerSampleLoss = perSampleLoss, Mask = mask,
            GradEmbeddings = gradEmbeddings, GradRefEmbeddings = gradRefEmbeddings,
        };
        Execute(Operation.ForwardBackward, ref call);
    }

    /// <summary>The backward pass: the gradients from the state a previous
    /// <see cref="Forward{T}(ReadOnlySpan{int}, ReadOnlySpan{T}, int, Span{T}, Span{T}, Span{bool}, Span{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T})"/>
    /// saved for the same inputs and options, scaled by an upstream gradient. The similarities are recomputed.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels (as given to Forward).</param>
    /// <param name="embeddings">N×D query embeddings (as given to Forward).</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="savedState">The <see cref="SavedStatePerRow"/>·N values Forward wrote.</param>
    /// <param name="gradEmbeddings">Receives the gradient with respect to the embeddings (N×D).</param>
    /// <param name="gradRefEmbeddings">Receives the gradient with respect to <paramref name="refEmbeddings"/> (M×D)
    /// when they are given; must be empty otherwise.</param>
    /// <param name="upstream">The gradient of the output: N values for <see cref="Interop.Reduction.None"/>, 1 value
    /// otherwise; empty for ones.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or empty (as given to Forward).</param>
    /// <param name="refLabels">M reference labels, or empty (as given to Forward).</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or empty (as given to Forward).</param>
    /// <exception cref="ArgumentException">A length does not match N, D or M, outputs overlap inputs, or the library
    /// rejected an input (including a saved state that Forward cannot have written).</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void Backward<T>(ReadOnlySpan<int> labels, ReadOnlySpan<T> embeddings, int dimension,
        ReadOnlySpan<T> savedState, Span<T> gradEmbeddings, Span<T> gradRefEmbeddings = default,
        ReadOnlySpan<T> upstream = default,
        ReadOnlySpan<T> sampleWeights = default, ReadOnlySpan<int> refLabels = default, ReadOnlySpan<T> refEmbeddings = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new Call<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = !refLabels.IsEmpty, RefEmbeddings = refEmbeddings, HasRefEmbeddings = !refEmbeddings.IsEmpty,
            Upstream = upstream, SavedStateIn = savedState, GradEmbeddings = gradEmbeddings, GradRefEmbeddings = gradRefEmbeddings,
        };
        Execute(Operation.Backward, ref call);
    }

    /// <summary>The reduced loss over a matrix of embeddings, (<c>D</c> is the number of columns).</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or null for all ones.</param>
    /// <param name="refLabels">M reference labels, or null.</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or null.</param>
    /// <returns>The loss, reduced as <see cref="CircleOptions.Reduction"/> says.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> or <paramref name="embeddings"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The reduction is <see cref="Interop.Reduction.None"/>: use <c>Compute</c>.</exception>
    /// <exception cref="ArgumentException">A shape does not match, or the library rejected an input.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public T Loss<T>(int[] labels, T[,] embeddings, T[]? sampleWeights = null, int[]? refLabels = null, T[,]? refEmbeddings = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireScalarReduction(nameof(Loss));
        int dimension = CheckMatrices(labels, embeddings, refEmbeddings);
        T result = T.Zero;
        var call = new Call<T>
        {
            Labels = labels, Embeddings = Flat(embeddings), Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = refLabels is not null,
            RefEmbeddings = refEmbeddings is null ? default : Flat(refEmbeddings), HasRefEmbeddings = refEmbeddings is not null,
            Loss = new Span<T>(ref result),
        };
        Execute(Operation.Forward, ref call);
        return result;
    }

    /// <summary>Everything in one call, into new arrays: the loss, the per-sample losses, the mask and,
    /// when <paramref name="gradients"/> is true, the gradients.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings.</param>
    /// <param name="gradients">Whether to compute the gradients too.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or null for all ones.</param>
    /// <param name="refLabels">M reference labels, or null.</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or null.</param>
    /// <param name="upstream">The gradient of the output (N values for <see cref="Interop.Reduction.None"/>, else 1), or null for ones.</param>
    /// <returns>New arrays the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> or <paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape does not match, or the library rejected an input.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public CircleResult<T> Compute<T>(int[] labels, T[,] embeddings, bool gradients = true, T[]? sampleWeights = null,
        int[]? refLabels = null, T[,]? refEmbeddings = null, T[]? upstream = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int dimension = CheckMatrices(labels, embeddings, refEmbeddings);
        int n = labels.Length;
        int m = refEmbeddings?.GetLength(0) ?? refLabels?.Length ?? n;
        if (!gradients && upstream is not null)
        {
            throw new ArgumentException("upstream is only used when gradients are computed.", nameof(upstream));
        }

        var loss = new T[LossLength(n)];
        var perSampleLoss = new T[n];
        var mask = new bool[n];
        T[,]? gradEmbeddings = gradients ? new T[n, dimension] : null;
        T[,]? gradRefEmbeddings = gradients && refEmbeddings is not null ? new T[m, dimension] : null;
        var call = new Call<T>
        {
            Labels = labels, Embeddings = Flat(embeddings), Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, HasRefLabels = refLabels is not null,
            RefEmbeddings = refEmbeddings is null ? default : Flat(refEmbeddings), HasRefEmbeddings = refEmbeddings is not null,
            Upstream = upstream, Loss = loss, PerSampleLoss = perSampleLoss, Mask = mask,
            GradEmbeddings = gradEmbeddings is null ? default : Flat(gradEmbeddings),
            GradRefEmbeddings = gradRefEmbeddings is null ? default : Flat(gradRefEmbeddings),
        };
        Execute(gradients ? Operation.ForwardBackward : Operation.Forward, ref call);
        return new CircleResult<T>(loss, perSampleLoss, mask, gradEmbeddings, gradRefEmbeddings);
    }

    private void RequireScalarReduction(string method)
    {
        if (Options.Reduction == Reduction.None)
        {
            throw new InvalidOperationException(
                $"{method} returns one value, but the reduction is None (one loss per row): use Forward, ForwardBackward or Compute.");
        }
    }

    /// <summary>Checks the matrices of the array overloads and returns D (their number of columns).</summary>
    private static int CheckMatrices<T>(int[] labels, T[,] embeddings, T[,]? refEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.GetLength(0) != labels.Length)
        {
            throw new ArgumentException(
                $"embeddings must have N = {labels.Length} rows (N = labels.Length), but has {embeddings.GetLength(0)}.", nameof(embeddings));
        }

        int dimension = embeddings.GetLength(1);
        if (dimension < 1)
        {
            throw new ArgumentException("embeddings must have at least one column (the embedding dimension D).", nameof(embeddings));
        }

        if (refEmbeddings is not null && refEmbeddings.GetLength(1) != dimension)
        {
            throw new ArgumentException(
                $"refEmbeddings must have D = {dimension} columns like embeddings, but has {refEmbeddings.GetLength(1)}.", nameof(refEmbeddings));
        }

        return dimension;
    }
}
