using System;
using System.Numerics;

namespace CircleLoss.Interop;

/// <summary>
/// Everything one computation reads and writes, by span, in float32 or float64: the inputs, the optional
/// reference set, sample weights and upstream gradient, and the outputs to fill. Pass it to
/// <see cref="Circle.Forward{T}(in CircleRequest{T})"/>, <see cref="Circle.ForwardBackward{T}(in CircleRequest{T})"/> or
/// <see cref="Circle.Backward{T}(in CircleRequest{T})"/>.
/// </summary>
/// <remarks>
/// Optional spans left empty mean "not given" (all-one weights, a unit upstream, no per-sample losses, ...). The
/// references are the exception: setting <see cref="RefLabels"/> or <see cref="RefEmbeddings"/>, even to an empty
/// span, gives them (an empty reference set: every row has no pairs); leaving both unset makes the queries their
/// own references. Labels may be 32-bit or 64-bit (<see cref="LabelSpan"/>); the reference labels must have the
/// same type.
/// <code>
/// var request = new CircleRequest&lt;float&gt;(labels, embeddings, dimension)
/// {
///     Loss = loss, GradEmbeddings = gradient,
/// };
/// circle.ForwardBackward(request);
/// </code>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the computation.</typeparam>
public ref struct CircleRequest<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private LabelSpan _refLabels;
    private ReadOnlySpan<T> _refEmbeddings;

    /// <summary>A request over N queries.</summary>
    /// <param name="labels">N query labels (32-bit or 64-bit).</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    public CircleRequest(LabelSpan labels, ReadOnlySpan<T> embeddings, int dimension)
    {
        Labels = labels;
        Embeddings = embeddings;
        Dimension = dimension;
    }

    /// <summary>N query labels.</summary>
    public LabelSpan Labels { get; }

    /// <summary>N×D query embeddings, row-major.</summary>
    public ReadOnlySpan<T> Embeddings { get; }

    /// <summary>D, the embedding dimension.</summary>
    public int Dimension { get; }

    /// <summary>N weights ≥ 0; empty for all ones.</summary>
    public ReadOnlySpan<T> SampleWeights { get; init; }

    /// <summary>M reference labels, of the type of <see cref="Labels"/>. Setting it (even to an empty span) gives them.</summary>
    public LabelSpan RefLabels
    {
        readonly get => _refLabels;
        init
        {
            _refLabels = value;
            HasRefLabels = true;
        }
    }

    /// <summary>M×D reference embeddings. Setting it (even to an empty span) gives them.</summary>
    public ReadOnlySpan<T> RefEmbeddings
    {
        readonly get => _refEmbeddings;
        init
        {
            _refEmbeddings = value;
            HasRefEmbeddings = true;
        }
    }

    /// <summary>Whether <see cref="RefLabels"/> was set.</summary>
    public bool HasRefLabels { get; private set; }

    /// <summary>Whether <see cref="RefEmbeddings"/> was set.</summary>
    public bool HasRefEmbeddings { get; private set; }

    /// <summary>The gradient of the output (backward): N values for <see cref="Reduction.None"/>, else 1; empty for ones.</summary>
    public ReadOnlySpan<T> Upstream { get; init; }

    /// <summary>Backward's input: the <see cref="Circle.SavedStatePerRow"/>·N values a forward pass wrote to
    /// <see cref="SavedStateOutput"/> for the same inputs and options.</summary>
    public ReadOnlySpan<T> SavedState { get; init; }

    /// <summary>Receives the loss: 1 value, or N values <c>w_i · l_i</c> for <see cref="Reduction.None"/> (forward).</summary>
    public Span<T> Loss { get; init; }

    /// <summary>Receives the N unweighted losses <c>l_i</c> (forward); empty to skip.</summary>
    public Span<T> PerSampleLoss { get; init; }

    /// <summary>Receives Keras's output mask <c>l_i &gt; 0</c> (forward); empty to skip.</summary>
    public Span<bool> Mask { get; init; }

    /// <summary>Receives the state a later backward pass needs (forward): <see cref="Circle.SavedStatePerRow"/>·N values; empty to skip.</summary>
    public Span<T> SavedStateOutput { get; init; }

    /// <summary>Receives d loss / d embeddings, N×D (backward).</summary>
    public Span<T> GradEmbeddings { get; init; }

    /// <summary>Receives d loss / d reference embeddings, M×D, when <see cref="RefEmbeddings"/> are given (backward).</summary>
    public Span<T> GradRefEmbeddings { get; init; }

    /// <summary>For a request that computes part of a larger batch (one process of several, or a batch scored
    /// against a memory that contains it): with <see cref="CircleOptions.RemoveDiagonal"/>, pair (i, j) is the removed
    /// diagonal when <c>j == i + DiagonalOffset</c>. 0 (default): when <c>j == i</c>. A process holding rows
    /// [k, k + N) of a batch whose references are the whole batch passes k. Must be 0 unless
    /// <see cref="RefEmbeddings"/> are given, and within [-N, M].</summary>
    public long DiagonalOffset { get; init; }

    /// <summary>The divisor of the scalar reductions instead of this request's own: 0 (default) for its own, else a
    /// finite value &gt; 0, typically the whole batch's from <see cref="Circle.ReduceTerms"/>. Must be 0 for
    /// <see cref="Reduction.None"/>.</summary>
    public double ReductionDivisor { get; init; }

    /// <summary>Receives this request's part of a scalar reduction (forward): <see cref="Circle.ReductionTermCount"/>
    /// values, the sum of <c>w_i · l_i · mask_i</c> and the request's own divisor, to be summed over the parts of a
    /// batch and passed to <see cref="Circle.ReduceTerms"/>; empty to skip. Must be empty for <see cref="Reduction.None"/>.</summary>
    public Span<double> ReductionTerms { get; init; }
}
