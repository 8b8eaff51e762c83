using System;
using System.Collections.Generic;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace CircleLoss.Interop.TorchSharp;

/// <summary>
/// The non-tensor argument of <see cref="CircleLossFunction"/>: the session, whether gradients are wanted, and the
/// managed tensor objects the forward pass created (the graph keeps its own references to those it saves; these
/// are disposed as soon as <c>apply</c> has returned, so that nothing waits for the garbage collector).
/// </summary>
internal sealed class CircleLossCall(Circle circle, bool needsGradients)
{
    private List<IDisposable> _temporaries = [];

    public Circle Circle { get; } = circle;

    public bool NeedsGradients { get; } = needsGradients;

    public T Keep<T>(T temporary)
        where T : IDisposable
    {
        _temporaries.Add(temporary);
        return temporary;
    }

    public void DisposeTemporaries()
    {
        foreach (IDisposable temporary in _temporaries)
        {
            temporary.Dispose();
        }

        _temporaries = [];
    }
}

/// <summary>
/// The custom autograd function: the loss of labels and embeddings (and optionally reference labels, reference
/// embeddings and sample weights), computed by the native library on the tensors' memory.
/// </summary>
/// <remarks>
/// Arguments of <c>apply</c>: labels, embeddings, ref_labels (or null), ref_embeddings (or null), sample_weights (or
/// null), <see cref="CircleLossCall"/>. With a scalar reduction, the forward pass computes the gradients too (one
/// pass over the similarities) and backward scales them by <c>grad_output</c>; with reduction None, the forward pass
/// saves the per-row state and backward runs the native backward pass with <c>grad_output</c> as the upstream.
/// Without gradients (no_grad, or no input that requires them) only the forward pass runs.
/// </remarks>
internal sealed class CircleLossFunction : SingleTensorFunction<CircleLossFunction>
{
    private const string CallKey = "call";
    private const int Arguments = 6;

    public override string Name => "CircleLossBackward";

    public static Tensor Apply(Tensor labels, Tensor embeddings, Tensor? refLabels, Tensor? refEmbeddings, Tensor? sampleWeights,
        Circle circle)
    {
        TensorArguments.Check(labels, embeddings, refLabels, refEmbeddings, sampleWeights);
        bool needsGradients = is_grad_enabled() && (embeddings.requires_grad || refEmbeddings?.requires_grad == true);
        var call = new CircleLossCall(circle, needsGradients);
        try
        {
            return apply(labels, embeddings, refLabels!, refEmbeddings!, sampleWeights!, call);
        }
        finally
        {
            call.DisposeTemporaries();
        }
    }

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var call = (CircleLossCall)vars[5];
        TensorArguments arguments = call.Keep(
            TensorArguments.Contiguous((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor, vars[3] as Tensor, vars[4] as Tensor));
        return arguments.IsFloat64 ? Forward<double>(ctx, arguments, call) : Forward<float>(ctx, arguments, call);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        if (ctx.get_data(CallKey) is not CircleLossCall call)
        {
            // Only sample_weights required gradients: none flows to them (nor to the labels).
            return [null!, null!, null!, null!, null!, null!];
        }

        List<Tensor> saved = ctx.get_saved_variables();
        try
        {
            (Tensor? gradEmbeddings, Tensor? gradRefEmbeddings) = saved.Count == 2
                ? Scaled(saved[0], saved[1], grad_output)
                : saved[1].dtype == ScalarType.Float64 ? Backward<double>(call, saved, grad_output) : Backward<float>(call, saved, grad_output);
            var gradients = new List<Tensor>(Arguments) { null!, gradEmbeddings!, null!, gradRefEmbeddings!, null!, null! };
            return gradients;
        }
        finally
        {
            foreach (Tensor tensor in saved)
            {
                tensor?.Dispose();
            }
        }
    }

    private static Tensor Forward<T>(AutogradContext ctx, TensorArguments a, CircleLossCall call)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Circle circle = call.Circle;
        ScalarType dtype = a.Embeddings.dtype;
        bool none = circle.Options.Reduction == Reduction.None;
        Tensor loss = call.Keep(empty(none ? new[] { a.N } : Array.Empty<long>(), dtype));
        CircleRequest<T> request = a.Request<T>() with { Loss = TensorArguments.Elements<T>(loss) };
        if (!call.NeedsGradients)
        {
            circle.Forward(request);
            return loss;
        }

        if (!none)
        {
            // One pass: the gradients of the reduced loss, scaled by grad_output in backward.
            Tensor gradEmbeddings = call.Keep(empty(new[] { a.N, a.Dimension }, dtype));
            Tensor? gradRefEmbeddings = a.RefEmbeddings is null ? null : call.Keep(empty(new[] { a.M, a.Dimension }, dtype));
            circle.ForwardBackward(request with
            {
                GradEmbeddings = TensorArguments.Elements<T>(gradEmbeddings),
                GradRefEmbeddings = TensorArguments.Elements<T>(gradRefEmbeddings),
            });
            ctx.save_for_backward([gradEmbeddings, gradRefEmbeddings!]);
        }
        else
        {
            // The per-row state; backward needs a vector upstream, so it runs its own pass.
            Tensor state = call.Keep(empty(new[] { Circle.SavedStatePerRow * a.N }, dtype));
            circle.Forward(request with { SavedStateOutput = TensorArguments.Elements<T>(state) });
            ctx.save_for_backward([a.Labels, a.Embeddings, a.RefLabels!, a.RefEmbeddings!, a.SampleWeights!, state]);
        }

        ctx.save_data(CallKey, call);
        return loss;
    }

    private static (Tensor, Tensor?) Scaled(Tensor gradEmbeddings, Tensor? gradRefEmbeddings, Tensor gradOutput) =>
        (gradEmbeddings.mul(gradOutput), gradRefEmbeddings?.mul(gradOutput));

    private static (Tensor, Tensor?) Backward<T>(CircleLossCall call, List<Tensor> saved, Tensor gradOutput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = TensorArguments.Borrowed(saved[0], saved[1], saved[2], saved[3], saved[4]);
        Tensor state = saved[5];
        ScalarType dtype = a.Embeddings.dtype;
        using Tensor upstream = gradOutput.to(dtype).contiguous();
        Tensor gradEmbeddings = empty(new[] { a.N, a.Dimension }, dtype);
        Tensor? gradRefEmbeddings = a.RefEmbeddings is null ? null : empty(new[] { a.M, a.Dimension }, dtype);
        call.Circle.Backward(a.Request<T>() with
        {
            SavedState = TensorArguments.Elements<T>(state),
            Upstream = TensorArguments.Elements<T>(upstream),
            GradEmbeddings = TensorArguments.Elements<T>(gradEmbeddings),
            GradRefEmbeddings = TensorArguments.Elements<T>(gradRefEmbeddings),
        });
        return (gradEmbeddings, gradRefEmbeddings);
    }
}
