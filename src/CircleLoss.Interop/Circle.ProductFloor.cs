using System;
using System.Numerics;

namespace CircleLoss.Interop;

// The benchmark yardstick: the time of the matrix products a forward+backward call needs at the least.
public sealed partial class Circle
{
    /// <summary>
    /// A yardstick for benchmarks, not a loss: runs only the matrix products that a forward+backward call on this
    /// problem needs at the least, with this loss's backend and threads, and returns their wall time. With the
    /// queries as their own references: the upper triangle of <c>X·Xᵀ</c> (N²D multiply-adds) and one N×N by N×D
    /// product; with reference embeddings: <c>X·Rᵀ</c>, then an N×M by M×D and an M×N by N×D product. A
    /// <see cref="ForwardBackward{T}(ReadOnlySpan{int}, ReadOnlySpan{T}, int, Span{T}, Span{T}, Span{T}, Span{T}, Span{bool}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{T})"/>
    /// that takes little more than this is bound by its products; the ratio of the two says how much the fused
    /// per-pair work costs on top. The loss is not computed, and the call allocates an N×M matrix. CPU sessions
    /// only.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> (float32 products) or <see cref="double"/> (float64 products).</typeparam>
    /// <param name="labels">N query labels (checked as for a computation, not otherwise used).</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="refLabels">M reference labels, or empty (see the remarks of <see cref="Circle"/>).</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or empty.</param>
    /// <returns>The wall time of the products, as the library measured it (one run; take the minimum of several
    /// for a benchmark).</returns>
    /// <exception cref="ArgumentException">A length does not match N, D or M, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="CircleLossBackendUnavailableException">This loss runs on CUDA: the library measures the floor
    /// for CPU sessions only (the native message says so).</exception>
    /// <exception cref="CircleLossOutOfMemoryException">The N×M matrix cannot be allocated.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public TimeSpan MeasureProductFloor<T>(ReadOnlySpan<int> labels, ReadOnlySpan<T> embeddings, int dimension,
        ReadOnlySpan<int> refLabels = default, ReadOnlySpan<T> refEmbeddings = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new Call<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension,
            RefLabels = refLabels, HasRefLabels = !refLabels.IsEmpty, RefEmbeddings = refEmbeddings, HasRefEmbeddings = !refEmbeddings.IsEmpty,
        };
        return TimeSpan.FromSeconds(Execute(Operation.ProductFloor, ref call));
    }
}
