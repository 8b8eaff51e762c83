using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp.Tests;

/// <summary>Every tensor the adapter cannot take: an exception naming the argument and what was expected; nothing
/// computed.</summary>
public class ErrorTests
{
    private const int N = 6, D = 3;

    private static CircleLossModule Criterion() => new(reduction: Reduction.Sum);

    private static Tensor Labels(ScalarType type = ScalarType.Int64) => tensor(new long[] { 0, 0, 1, 1, 2, 2 }, dtype: ScalarType.Int64).to_type(type);

    private static Tensor Embeddings(ScalarType type = ScalarType.Float32, bool requiresGrad = true) =>
        nn.functional.normalize(arange(N * D, dtype: ScalarType.Float64).reshape(N, D).add(1.0), dim: 1).to_type(type).requires_grad_(requiresGrad);

    private static void Refused(Func<Tensor> call, string parameter, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => call());
        Assert.Equal(parameter, e.ParamName);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ScalarType.Float16, "Float16")]
    [InlineData(ScalarType.BFloat16, "BFloat16")]
    [InlineData(ScalarType.Int32, "Int32")]
    public void Embeddings_that_are_not_float32_or_float64(ScalarType type, string name)
    {
        using var criterion = Criterion();
        using DisposeScope scope = NewDisposeScope();
        Refused(() => criterion.call(Labels(), Embeddings(ScalarType.Float64, requiresGrad: false).to_type(type)), "embeddings",
            $"embeddings must be float32 or float64, not {name}: convert them with .to(torch.float32)");
    }

    [Fact]
    public void Mixed_dtypes()
    {
        using var criterion = Criterion();
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Embeddings();
        Refused(() => criterion.forward(Labels(), x, Labels(), Embeddings(ScalarType.Float64)), "ref_embeddings",
            "ref_embeddings must have the dtype of embeddings (Float32), not Float64.");
        Refused(() => criterion.forward(Labels(), x, Labels(ScalarType.Int32)), "ref_labels",
            "ref_labels must have the dtype of labels (Int64), not Int32.");
        Refused(() => criterion.forward(Labels(), x, null, null, ones(N, dtype: ScalarType.Float64)), "sample_weights",
            "sample_weights must have the dtype of embeddings (Float32), not Float64.");
        Refused(() => criterion.call(Labels(ScalarType.Float32), x), "labels",
            "labels must be int64 (TorchSharp's default) or int32, not Float32.");
        Refused(() => criterion.call(Labels(ScalarType.Int16), x), "labels",
            "labels must be int64 (TorchSharp's default) or int32, not Int16.");
    }

    [Fact]
    public void Wrong_shapes()
    {
        using var criterion = Criterion();
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Embeddings();
        Refused(() => criterion.call(Labels(), x.reshape(-1)), "embeddings", "embeddings must be a 2-D tensor [N, D], but has shape [18].");
        Refused(() => criterion.call(Labels(), x.reshape(2, 3, 3)), "embeddings", "embeddings must be a 2-D tensor [N, D], but has shape [2, 3, 3].");
        Refused(() => criterion.call(Labels().narrow(0, 0, 5), x), "labels",
            "labels must be a 1-D tensor of N, the rows of embeddings = 6 labels, but has shape [5].");
        Refused(() => criterion.call(Labels().reshape(2, 3), x), "labels",
            "labels must be a 1-D tensor of N, the rows of embeddings = 6 labels, but has shape [2, 3].");
        Refused(() => criterion.forward(Labels(), x, Labels(), x.narrow(1, 0, 2)), "ref_embeddings",
            "ref_embeddings must be a 2-D tensor [M, D] with D = 3 like embeddings, but has shape [6, 2].");
        Refused(() => criterion.forward(Labels(), x, Labels().narrow(0, 0, 4), x), "ref_labels",
            "ref_labels must be a 1-D tensor of M, the rows of ref_embeddings = 6 labels, but has shape [4].");
        Refused(() => criterion.forward(Labels(), x, Labels().narrow(0, 0, 4)), "ref_labels",
            "ref_labels must be a 1-D tensor of N (without ref_embeddings the references are the queries) = 6 labels, but has shape [4].");
        Refused(() => criterion.forward(Labels(), x, null, x.narrow(0, 0, 4)), "ref_embeddings",
            "ref_embeddings must have N = 6 rows when ref_labels is not given (the reference labels are then the labels), but has 4.");
        Refused(() => criterion.forward(Labels(), x, null, null, ones(N + 1, dtype: ScalarType.Float32)), "sample_weights",
            "sample_weights must be a 1-D tensor of N = 6 weights, but has shape [7].");
        Refused(() => criterion.call(Labels(), zeros(N, 0, dtype: ScalarType.Float32)), "embeddings",
            "embeddings of shape [6, 0] are not supported: D must be at least 1");
    }

    [Fact]
    public void Tensors_on_other_devices()
    {
        using var criterion = Criterion();
        using DisposeScope scope = NewDisposeScope();
        Tensor onMeta = empty(N, D, dtype: ScalarType.Float32, device: META);
        Refused(() => criterion.call(Labels(), onMeta), "embeddings", "embeddings must be a CPU tensor, but is on meta");
    }

    [Fact]
    public void Cuda_tensors_are_refused_not_copied()
    {
        // TorchSharp-cpu cannot create a CUDA tensor; the refusal is checked wherever a CUDA build is present.
        if (!cuda.is_available())
        {
            return;
        }

        using var criterion = Criterion();
        using DisposeScope scope = NewDisposeScope();
        var e = Assert.Throws<NotSupportedException>(() => criterion.call(Labels(), Embeddings().cuda()));
        Assert.StartsWith("embeddings is a CUDA tensor", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_and_options_are_checked_by_the_library()
    {
        using var criterion = Criterion();
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Embeddings();
        Tensor withNan = x.detach().clone();
        withNan[1, 2] = tensor(float.NaN);
        var nonFinite = Assert.Throws<CircleLossNonFiniteInputException>(() => criterion.call(Labels(), withNan));
        Assert.Contains("row 1, column 2", nonFinite.Message, StringComparison.Ordinal);
        var negative = Assert.Throws<CircleLossArgumentException>(() => criterion.forward(Labels(), x, null, null, full(N, -1.0f)));
        Assert.Equal("sampleWeights", negative.ParamName);
        var gamma = Assert.Throws<CircleLossArgumentException>(() => CircleLossFunctional.circle_loss(Labels(), x, gamma: 1e-40));
        Assert.Contains("options->gamma (9.9999999999999993e-41) is denormal in float32", gamma.Message, StringComparison.Ordinal);
        var negativeGamma = Assert.Throws<CircleLossArgumentException>(() => new CircleLossModule(gamma: -1));
        Assert.Equal("options->gamma", negativeGamma.NativeArgument);
        Assert.Null(x.grad);
    }
}
