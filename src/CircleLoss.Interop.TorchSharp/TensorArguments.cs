using System;
using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp;

/// <summary>
/// The tensors of one call, checked for what only tensors carry (device, dtype, rank, shape) and viewed as spans
/// over their own memory. Lengths, values and options are checked once, by the native library (through
/// CircleLoss.Interop). Non-contiguous tensors are made contiguous here, once; contiguous ones (slices included)
/// are read in place.
/// </summary>
internal sealed class TensorArguments : IDisposable
{
    private TensorArguments(Tensor labels, Tensor embeddings, Tensor? refLabels, Tensor? refEmbeddings, Tensor? sampleWeights)
    {
        Labels = labels;
        Embeddings = embeddings;
        RefLabels = refLabels;
        RefEmbeddings = refEmbeddings;
        SampleWeights = sampleWeights;
    }

    private Tensor[] _copies = [];

    public Tensor Labels { get; private set; }

    public Tensor Embeddings { get; private set; }

    public Tensor? RefLabels { get; private set; }

    public Tensor? RefEmbeddings { get; private set; }

    public Tensor? SampleWeights { get; private set; }

    public long N => Embeddings.shape[0];

    public int Dimension => checked((int)Embeddings.shape[1]);

    public long M => RefEmbeddings?.shape[0] ?? RefLabels?.shape[0] ?? N;

    public bool IsFloat64 => Embeddings.dtype == ScalarType.Float64;

    /// <summary>Checks the tensors of a call; throws an exception that names the offending argument.</summary>
    /// <exception cref="NotSupportedException">A tensor is on a CUDA device.</exception>
    /// <exception cref="ArgumentException">A tensor has the wrong device, dtype, rank or shape.</exception>
    public static void Check(Tensor labels, Tensor embeddings, Tensor? refLabels, Tensor? refEmbeddings, Tensor? sampleWeights)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(embeddings);
        CheckDevice(labels, nameof(labels));
        CheckDevice(embeddings, nameof(embeddings));
        CheckDevice(refLabels, "ref_labels");
        CheckDevice(refEmbeddings, "ref_embeddings");
        CheckDevice(sampleWeights, "sample_weights");

        if (embeddings.dtype is not (ScalarType.Float32 or ScalarType.Float64))
        {
            throw new ArgumentException(
                $"embeddings must be float32 or float64, not {embeddings.dtype}: convert them with .to(torch.float32) (the loss and its gradients are computed in the embeddings' dtype).",
                nameof(embeddings));
        }

        if (embeddings.dim() != 2)
        {
            throw new ArgumentException($"embeddings must be a 2-D tensor [N, D], but has shape {Shape(embeddings)}.", nameof(embeddings));
        }

        long n = embeddings.shape[0], d = embeddings.shape[1];
        if (d < 1 || d > int.MaxValue || n * d > int.MaxValue)
        {
            throw new ArgumentException($"embeddings of shape {Shape(embeddings)} are not supported: D must be at least 1 and N·D at most {int.MaxValue}.", nameof(embeddings));
        }

        CheckLabels(labels, nameof(labels), n, "N, the rows of embeddings");
        if (refEmbeddings is not null)
        {
            if (refEmbeddings.dtype != embeddings.dtype)
            {
                throw new ArgumentException($"ref_embeddings must have the dtype of embeddings ({embeddings.dtype}), not {refEmbeddings.dtype}.", "ref_embeddings");
            }

            if (refEmbeddings.dim() != 2 || refEmbeddings.shape[1] != d || refEmbeddings.shape[0] * d > int.MaxValue)
            {
                throw new ArgumentException($"ref_embeddings must be a 2-D tensor [M, D] with D = {d} like embeddings, but has shape {Shape(refEmbeddings)}.", "ref_embeddings");
            }
        }

        if (refLabels is not null)
        {
            if (refLabels.dtype != labels.dtype)
            {
                throw new ArgumentException($"ref_labels must have the dtype of labels ({labels.dtype}), not {refLabels.dtype}.", "ref_labels");
            }

            CheckLabels(refLabels, "ref_labels", refEmbeddings?.shape[0] ?? n,
                refEmbeddings is null ? "N (without ref_embeddings the references are the queries)" : "M, the rows of ref_embeddings");
        }
        else if (refEmbeddings is not null && refEmbeddings.shape[0] != n)
        {
            throw new ArgumentException(
                $"ref_embeddings must have N = {n} rows when ref_labels is not given (the reference labels are then the labels), but has {refEmbeddings.shape[0]}.",
                "ref_embeddings");
        }

        if (sampleWeights is not null)
        {
            if (sampleWeights.dtype != embeddings.dtype)
            {
                throw new ArgumentException($"sample_weights must have the dtype of embeddings ({embeddings.dtype}), not {sampleWeights.dtype}.", "sample_weights");
            }

            if (sampleWeights.dim() != 1 || sampleWeights.shape[0] != n)
            {
                throw new ArgumentException($"sample_weights must be a 1-D tensor of N = {n} weights, but has shape {Shape(sampleWeights)}.", "sample_weights");
            }
        }
    }

    /// <summary>The tensors, contiguous (a copy only of those that are not), owned by the returned object.</summary>
    public static TensorArguments Contiguous(Tensor labels, Tensor embeddings, Tensor? refLabels, Tensor? refEmbeddings, Tensor? sampleWeights)
    {
        var arguments = new TensorArguments(labels, embeddings, refLabels, refEmbeddings, sampleWeights);
        arguments.Labels = arguments.MakeContiguous(labels)!;
        arguments.Embeddings = arguments.MakeContiguous(embeddings)!;
        arguments.RefLabels = arguments.MakeContiguous(refLabels);
        arguments.RefEmbeddings = arguments.MakeContiguous(refEmbeddings);
        arguments.SampleWeights = arguments.MakeContiguous(sampleWeights);
        return arguments;
    }

    /// <summary>Tensors known to be contiguous (saved by a forward pass), not owned: nothing to dispose.</summary>
    public static TensorArguments Borrowed(Tensor labels, Tensor embeddings, Tensor? refLabels, Tensor? refEmbeddings, Tensor? sampleWeights) =>
        new(labels, embeddings, refLabels, refEmbeddings, sampleWeights);

    /// <summary>The labels as a span over the tensor's memory (int32 or int64).</summary>
    public static LabelSpan LabelsOf(Tensor? labels) => labels is null
        ? default
        : labels.dtype == ScalarType.Int64
            ? new LabelSpan(MemoryMarshal.Cast<byte, long>(labels.bytes))
            : new LabelSpan(MemoryMarshal.Cast<byte, int>(labels.bytes));

    /// <summary>A contiguous CPU tensor's elements, in place.</summary>
    public static Span<T> Elements<T>(Tensor? tensor)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        tensor is null ? default : MemoryMarshal.Cast<byte, T>(tensor.bytes);

    /// <summary>The request of this call (outputs are added by the caller).</summary>
    public CircleRequest<T> Request<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var request = new CircleRequest<T>(LabelsOf(Labels), Elements<T>(Embeddings), Dimension)
        {
            SampleWeights = Elements<T>(SampleWeights),
        };
        if (RefLabels is not null)
        {
            request = request with { RefLabels = LabelsOf(RefLabels) };
        }

        if (RefEmbeddings is not null)
        {
            request = request with { RefEmbeddings = Elements<T>(RefEmbeddings) };
        }

        return request;
    }

    public void Dispose()
    {
        foreach (Tensor copy in _copies)
        {
            copy.Dispose();
        }

        _copies = [];
    }

    private Tensor? MakeContiguous(Tensor? tensor)
    {
        if (tensor is null || tensor.is_contiguous())
        {
            return tensor;
        }

        Tensor copy = tensor.contiguous();
        _copies = [.. _copies, copy];
        return copy;
    }

    private static void CheckDevice(Tensor? tensor, string name)
    {
        if (tensor is null)
        {
            return;
        }

        if (tensor.device_type == DeviceType.CUDA)
        {
            throw new NotSupportedException(
                $"{name} is a CUDA tensor ({tensor.device}): CircleLoss.Interop.TorchSharp computes CPU tensors only. No TorchSharp CUDA build " +
                "could be tested for this release, so CUDA tensors are refused rather than copied to the host silently; move them with .cpu(), " +
                "or compute on the GPU through CircleLoss.Interop's DeviceBuffer API.");
        }

        if (tensor.device_type != DeviceType.CPU)
        {
            throw new ArgumentException($"{name} must be a CPU tensor, but is on {tensor.device}.", name);
        }
    }

    private static void CheckLabels(Tensor labels, string name, long expected, string what)
    {
        if (labels.dtype is not (ScalarType.Int32 or ScalarType.Int64))
        {
            throw new ArgumentException($"{name} must be int64 (TorchSharp's default) or int32, not {labels.dtype}.", name);
        }

        if (labels.dim() != 1 || labels.shape[0] != expected)
        {
            throw new ArgumentException($"{name} must be a 1-D tensor of {what} = {expected} labels, but has shape {Shape(labels)}.", name);
        }
    }

    private static string Shape(Tensor tensor) => "[" + string.Join(", ", tensor.shape) + "]";
}
