using System;
using System.Numerics;

namespace CircleLoss.Interop;

// The request-based computations: one generic entry point per pass, for float and double, 32-bit and
// 64-bit labels. They take the same path as every other overload (Execute).
public sealed partial class Circle
{
    /// <summary>The forward pass: fills <see cref="CircleRequest{T}.Loss"/> and, where given, the per-sample losses,
    /// the mask and the saved state.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="request">The inputs and outputs.</param>
    /// <exception cref="ArgumentException">A length does not match N, D or M (the parameter is named), the reference
    /// labels have another integer type than the labels, outputs overlap inputs, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void Forward<T>(scoped in CircleRequest<T> request)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Call<T> call = ToCall(request);
        Execute(Operation.Forward, ref call);
    }

    /// <summary>Forward and backward in one call: the forward outputs and
    /// <see cref="CircleRequest{T}.GradEmbeddings"/> (and <see cref="CircleRequest{T}.GradRefEmbeddings"/>), scaled by
    /// <see cref="CircleRequest{T}.Upstream"/>.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="request">The inputs and outputs.</param>
    /// <exception cref="ArgumentException">A length does not match N, D or M (the parameter is named), the reference
    /// labels have another integer type than the labels, outputs overlap inputs, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void ForwardBackward<T>(scoped in CircleRequest<T> request)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Call<T> call = ToCall(request);
        Execute(Operation.ForwardBackward, ref call);
    }

    /// <summary>The backward pass from <see cref="CircleRequest{T}.SavedState"/>, which a forward pass wrote for the
    /// same inputs and options: fills the gradients, scaled by <see cref="CircleRequest{T}.Upstream"/>. The
    /// similarities are recomputed.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="request">The inputs, the saved state and the gradient outputs.</param>
    /// <exception cref="ArgumentException">A length does not match N, D or M (the parameter is named), the reference
    /// labels have another integer type than the labels, outputs overlap inputs, or the library rejected an input
    /// (including a saved state that a forward pass cannot have written).</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void Backward<T>(scoped in CircleRequest<T> request)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Call<T> call = ToCall(request);
        Execute(Operation.Backward, ref call);
    }

    private static Call<T> ToCall<T>(scoped in CircleRequest<T> request)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        return new Call<T>
        {
            Labels = request.Labels, Embeddings = request.Embeddings, Dimension = request.Dimension,
            SampleWeights = request.SampleWeights,
            RefLabels = request.RefLabels, HasRefLabels = request.HasRefLabels,
            RefEmbeddings = request.RefEmbeddings, HasRefEmbeddings = request.HasRefEmbeddings,
            Upstream = request.Upstream, SavedStateIn = request.SavedState,
            Loss = request.Loss, PerSampleLoss = request.PerSampleLoss, Mask = request.Mask, SavedStateOut = request.SavedStateOutput,
            GradEmbeddings = request.GradEmbeddings, GradRefEmbeddings = request.GradRefEmbeddings,
            DiagonalOffset = request.DiagonalOffset, ReductionDivisor = request.ReductionDivisor,
            ReductionTerms = request.ReductionTerms,
        };
    }
}
