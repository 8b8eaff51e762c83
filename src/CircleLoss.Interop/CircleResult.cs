namespace CircleLoss.Interop;

/// <summary>
/// Everything one evaluation computes, in arrays the caller owns (returned by
/// <see cref="Circle.Compute{T}(int[], T[,], bool, T[], int[], T[,], T[])"/> and its float64
/// overload). The arrays are new for each call and stay valid for as long as the caller keeps them.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class CircleResult<T>
    where T : unmanaged
{
    internal CircleResult(T[] loss, T[] perSampleLoss, bool[] mask, T[,]? gradEmbeddings, T[,]? gradRefEmbeddings)
    {
        Loss = loss;
        PerSampleLoss = perSampleLoss;
        Mask = mask;
        GradEmbeddings = gradEmbeddings;
        GradRefEmbeddings = gradRefEmbeddings;
    }

    /// <summary>The loss: one value, or N values <c>w_i · l_i</c> for <see cref="Reduction.None"/>.</summary>
    public T[] Loss { get; }

    /// <summary>The unweighted per-sample losses <c>l_i</c> (N values).</summary>
    public T[] PerSampleLoss { get; }

    /// <summary>Keras's output mask: true where <c>l_i &gt; 0</c> (N values).</summary>
    public bool[] Mask { get; }

    /// <summary>The gradient with respect to the embeddings (N×D), through both roles when the queries are their
    /// own references; null when gradients were not asked for.</summary>
    public T[,]? GradEmbeddings { get; }

    /// <summary>The gradient with respect to the reference embeddings (M×D); null when no reference embeddings
    /// were given or gradients were not asked for.</summary>
    public T[,]? GradRefEmbeddings { get; }
}
