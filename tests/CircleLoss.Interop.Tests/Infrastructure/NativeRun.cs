using System;
using System.Linq;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>Runs a <see cref="ReferenceProblem"/> through the public span API (ForwardBackward), in float64 or float32.</summary>
internal static class NativeRun
{
    public static ReferenceResult Float64(Circle circle, ReferenceProblem p)
    {
        int n = p.N, d = p.Dimension;
        var loss = new double[circle.LossLength(n)];
        var perSample = new double[n];
        var mask = new bool[n];
        var grad = new double[n * d];
        double[]? gradRef = p.RefEmbeddings is null ? null : new double[p.RefEmbeddings.Length];
        circle.ForwardBackward(p.Labels, p.Embeddings, d, loss, grad, gradRef, perSample, mask, p.Upstream,
            p.SampleWeights, p.RefLabels, p.RefEmbeddings);
        return new ReferenceResult(loss, perSample, mask, grad, gradRef);
    }

    public static ReferenceResult Float32(Circle circle, ReferenceProblem p)
    {
        int n = p.N, d = p.Dimension;
        var loss = new float[circle.LossLength(n)];
        var perSample = new float[n];
        var mask = new bool[n];
        var grad = new float[n * d];
        float[]? gradRef = p.RefEmbeddings is null ? null : new float[p.RefEmbeddings.Length];
        circle.ForwardBackward(p.Labels, p.Embeddings.ToSingle(), d, loss, grad, gradRef, perSample, mask, p.Upstream?.ToSingle(),
            p.SampleWeights?.ToSingle(), p.RefLabels, p.RefEmbeddings?.ToSingle());
        return new ReferenceResult(loss.ToDouble(), perSample.ToDouble(), mask, grad.ToDouble(), gradRef?.ToDouble());
    }

    /// <summary>The backends to test on: the CPU always, CUDA where this machine has it.</summary>
    public static Backend[] Backends() =>
        CircleLossLibrary.QueryBackend(Backend.Cuda).IsAvailable ? [Backend.Cpu, Backend.Cuda] : [Backend.Cpu];
}
