using System;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>
/// Every bad input gives its documented exception, naming the parameter, and leaves every output as it was.
/// </summary>
public sealed class ValidationTests : IDisposable
{
    private const float Sentinel = 12345.5f;
    private const int N = 6;
    private const int D = 3;
    private const int M = 4;

    private readonly Circle _circle = new(new CircleOptions { Backend = Backend.Cpu });
    private readonly Circle _none = new(new CircleOptions { Backend = Backend.Cpu, Reduction = Reduction.None });
    private readonly int[] _labels = [0, 1, 0, 1, 2, 2];
    private readonly float[] _embeddings = RandomCases.Make(5, N, D).Embeddings.ToSingle();
    private readonly int[] _refLabels = [0, 1, 2, 0];
    private readonly float[] _refEmbeddings = RandomCases.Make(6, M, D).Embeddings.ToSingle();

    // Outputs, filled with a sentinel before each call and checked after it.
    private readonly float[] _loss = Filled(1);
    private readonly float[] _lossN = Filled(N);
    private readonly float[] _perSample = Filled(N);
    private readonly bool[] _mask = Enumerable.Repeat(true, N).ToArray();
    private readonly float[] _state = Filled(2 * N);
    private readonly float[] _grad = Filled(N * D);
    private readonly float[] _gradRef = Filled(M * D);

    public void Dispose()
    {
        _circle.Dispose();
        _none.Dispose();
    }

    private static float[] Filled(int length) => Enumerable.Repeat(Sentinel, length).ToArray();

    private void AssertOutputsUntouched()
    {
        Assert.All(_loss, v => Assert.Equal(Sentinel, v));
        Assert.All(_lossN, v => Assert.Equal(Sentinel, v));
        Assert.All(_perSample, v => Assert.Equal(Sentinel, v));
        Assert.All(_mask, Assert.True);
        Assert.All(_state, v => Assert.Equal(Sentinel, v));
        Assert.All(_grad, v => Assert.Equal(Sentinel, v));
        Assert.All(_gradRef, v => Assert.Equal(Sentinel, v));
    }

    private T Throws<T>(string paramName, Action action)
        where T : ArgumentException
    {
        T e = Assert.ThrowsAny<T>(action);
        Assert.Equal(paramName, e.ParamName);
        AssertOutputsUntouched();
        return e;
    }

    [Fact]
    public void Valid_inputs_pass_and_write_the_outputs()
    {
        // The baseline the failures below differ from in one input each.
        _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, perSampleLoss: _perSample, mask: _mask);
        Assert.NotEqual(Sentinel, _loss[0]);
        Assert.DoesNotContain(Sentinel, _grad);
        Assert.DoesNotContain(Sentinel, _perSample);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Dimension_below_one(int dimension) =>
        Throws<ArgumentOutOfRangeException>("dimension", () => _circle.Forward(_labels, _embeddings, dimension, _loss));

    [Fact]
    public void Embeddings_of_the_wrong_length()
    {
        var e = Throws<ArgumentException>("embeddings", () => _circle.Forward(_labels, _embeddings.AsSpan(1), D, _loss));
        Assert.Contains("18", e.Message, StringComparison.Ordinal); // the expected N×D
        Throws<ArgumentException>("embeddings", () => _circle.Forward(_labels.AsSpan(1), _embeddings, D, _loss));
        Throws<ArgumentException>("embeddings", () => _circle.Forward(_labels, _embeddings, 4, _loss));
    }

    [Fact]
    public void Reference_embeddings_of_the_wrong_length()
    {
        var e = Throws<ArgumentException>("refEmbeddings",
            () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, _gradRef, refLabels: _refLabels, refEmbeddings: _refEmbeddings.AsSpan(2)));
        Assert.Contains("12", e.Message, StringComparison.Ordinal); // M×D
        // Embeddings only: they must have the queries' shape.
        Throws<ArgumentException>("refEmbeddings", () => _circle.Forward(_labels, _embeddings, D, _loss, refEmbeddings: _refEmbeddings));
    }

    [Fact]
    public void Reference_labels_alone_must_match_the_queries() =>
        Throws<ArgumentException>("refLabels", () => _circle.Forward(_labels, _embeddings, D, _loss, refLabels: _refLabels));

    [Fact]
    public void Sample_weights_of_the_wrong_length() =>
        Throws<ArgumentException>("sampleWeights", () => _circle.Forward(_labels, _embeddings, D, _loss, sampleWeights: new float[N - 1]));

    [Fact]
    public void Outputs_of_the_wrong_length()
    {
        Throws<ArgumentException>("loss", () => _circle.Forward(_labels, _embeddings, D, _lossN));
        Throws<ArgumentException>("loss", () => _none.Forward(_labels, _embeddings, D, _loss));
        Throws<ArgumentException>("perSampleLoss", () => _circle.Forward(_labels, _embeddings, D, _loss, _perSample.AsSpan(1)));
        Throws<ArgumentException>("mask", () => _circle.Forward(_labels, _embeddings, D, _loss, mask: _mask.AsSpan(2)));
        Throws<ArgumentException>("savedState", () => _circle.Forward(_labels, _embeddings, D, _loss, savedState: _state.AsSpan(1)));
        Throws<ArgumentException>("gradEmbeddings", () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad.AsSpan(1)));
        Throws<ArgumentException>("gradEmbeddings", () => _circle.LossAndGradients(_labels, _embeddings, D, Span<float>.Empty));
    }

    [Fact]
    public void Reference_gradients_only_with_reference_embeddings()
    {
        var e = Throws<ArgumentException>("gradRefEmbeddings", () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, _gradRef));
        Assert.Contains("both roles", e.Message, StringComparison.Ordinal);
        Throws<ArgumentException>("gradRefEmbeddings",
            () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, _gradRef.AsSpan(3), refLabels: _refLabels, refEmbeddings: _refEmbeddings));
        Throws<ArgumentException>("gradRefEmbeddings",
            () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, refLabels: _refLabels, refEmbeddings: _refEmbeddings));
    }

    [Fact]
    public void Upstream_of_the_wrong_length()
    {
        Throws<ArgumentException>("upstream", () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, upstream: new float[2]));
        Throws<ArgumentException>("upstream", () => _none.ForwardBackward(_labels, _embeddings, D, _lossN, _grad, upstream: new float[N - 1]));
    }

    [Fact]
    public void Saved_state_of_the_wrong_length() =>
        Throws<ArgumentException>("savedState", () => _circle.Backward(_labels, _embeddings, D, _state.AsSpan(2), _grad));

    [Fact]
    public void Outputs_overlapping_inputs_or_each_other()
    {
        var buffer = new float[N * D + 4];
        _embeddings.CopyTo(buffer, 0);
        Assert.Equal("gradEmbeddings", Assert.Throws<ArgumentException>(
            () => _circle.ForwardBackward(_labels, buffer.AsSpan(0, N * D), D, _loss, buffer.AsSpan(4, N * D))).ParamName);
        var outputs = Filled(N + N);
        Assert.Equal("perSampleLoss", Assert.Throws<ArgumentException>(
            () => _none.Forward(_labels, _embeddings, D, outputs.AsSpan(0, N), outputs.AsSpan(N - 1, N))).ParamName);
        Assert.All(outputs, v => Assert.Equal(Sentinel, v));
    }

    [Fact]
    public void Non_finite_embeddings_are_rejected_by_the_library()
    {
        float[] bad = (float[])_embeddings.Clone();
        bad[2 * D + 1] = float.NaN;
        var e = Throws<CircleLossNonFiniteInputException>("embeddings", () => _circle.ForwardBackward(_labels, bad, D, _loss, _grad, perSampleLoss: _perSample, mask: _mask));
        Assert.Equal(CircleLossStatus.NonFiniteInput, e.Status);
        Assert.Contains("row 2", e.NativeMessage, StringComparison.Ordinal);
        Assert.Contains("column 1", e.NativeMessage, StringComparison.Ordinal);
        Assert.Contains(e.NativeMessage, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_finite_reference_embeddings_weights_and_upstream_are_rejected()
    {
        float[] badRefs = (float[])_refEmbeddings.Clone();
        badRefs[5] = float.PositiveInfinity;
        Throws<CircleLossNonFiniteInputException>("refEmbeddings",
            () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, _gradRef, refLabels: _refLabels, refEmbeddings: badRefs));
        float[] weights = Enumerable.Repeat(1f, N).ToArray();
        weights[3] = float.NaN;
        Throws<CircleLossNonFiniteInputException>("sampleWeights", () => _circle.Forward(_labels, _embeddings, D, _loss, sampleWeights: weights));
        Throws<CircleLossNonFiniteInputException>("upstream", () => _circle.ForwardBackward(_labels, _embeddings, D, _loss, _grad, upstream: [float.NegativeInfinity]));
    }

    [Fact]
    public void Negative_sample_weights_are_rejected()
    {
        float[] weights = Enumerable.Repeat(1f, N).ToArray();
        weights[4] = -0.5f;
        CircleLossArgumentException e = Throws<CircleLossArgumentException>("sampleWeights", () => _circle.Forward(_labels, _embeddings, D, _loss, sampleWeights: weights));
        Assert.Contains("sample_weights", e.NativeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_state_forward_cannot_have_written_is_rejected()
    {
        float[] state = Enumerable.Repeat(float.NaN, 2 * N).ToArray();
        var e = Throws<CircleLossArgumentException>("savedState", () => _circle.Backward(_labels, _embeddings, D, state, _grad));
        Assert.Equal(CircleLossStatus.InvalidArgument, e.Status);
    }

    [Fact]
    public void Scalar_methods_refuse_reduction_none()
    {
        Assert.Throws<InvalidOperationException>(() => _none.Loss(_labels, _embeddings, D));
        Assert.Throws<InvalidOperationException>(() => _none.LossAndGradients(_labels, _embeddings, D, _grad));
        Assert.Throws<InvalidOperationException>(() => _none.Loss(_labels, new double[N, D]));
        AssertOutputsUntouched();
    }

    [Fact]
    public void Matrix_overloads_check_their_arguments()
    {
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => _circle.Loss(null!, new float[N, D])).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentNullException>(() => _circle.Compute(_labels, (float[,])null!)).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentException>(() => _circle.Loss(_labels, new float[N + 1, D])).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentException>(() => _circle.Loss(_labels, new float[N, 0])).ParamName);
        Assert.Equal("refEmbeddings", Assert.Throws<ArgumentException>(
            () => _circle.Compute(_labels, new double[N, D], refLabels: _refLabels, refEmbeddings: new double[M, D + 1])).ParamName);
        Assert.Equal("upstream", Assert.Throws<ArgumentException>(
            () => _circle.Compute(_labels, new double[N, D], gradients: false, upstream: [1.0])).ParamName);
    }

    // The option, the native argument the library names, and its message (its start where it prints a NaN).
    public static TheoryData<string, CircleOptions, string, string> BadOptions() => new()
    {
        { "Gamma = 0", new CircleOptions { Gamma = 0 }, "options->gamma", "options->gamma must be finite and > 0 (got 0)" },
        { "Gamma < 0", new CircleOptions { Gamma = -1 }, "options->gamma", "options->gamma must be finite and > 0 (got -1)" },
        { "Gamma = NaN", new CircleOptions { Gamma = double.NaN }, "options->gamma", "options->gamma must be finite and > 0 (got " },
        { "Gamma = ∞", new CircleOptions { Gamma = double.PositiveInfinity }, "options->gamma", "options->gamma must be finite and > 0 (got inf)" },
        { "Margin = NaN", new CircleOptions { Margin = double.NaN }, "options->margin", "options->margin must be finite (got " },
        { "Reduction", new CircleOptions { Reduction = (Reduction)17 }, "options->reduction", "options->reduction is not a circleloss_reduction value (got 17)" },
        { "GradientMode", new CircleOptions { GradientMode = (GradientMode)2 }, "options->gradient_mode", "options->gradient_mode is not a circleloss_gradient_mode value (got 2)" },
        { "Backend", new CircleOptions { Backend = (Backend)(-1) }, "config->backend", "config->backend is not a circleloss_backend value (got -1)" },
        { "DeviceIndex", new CircleOptions { DeviceIndex = -1 }, "config->device_index", "config->device_index must be >= 0 (got -1)" },
        { "ThreadCount", new CircleOptions { ThreadCount = -2 }, "config->num_threads", "config->num_threads must be in [0, 4096] (got -2)" },
    };

    // The façade repeats none of the library's rules: the library rejects the options, and says which one.
    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_are_rejected_by_the_library_when_the_loss_is_created(string what, CircleOptions options,
        string nativeArgument, string nativeMessage)
    {
        var e = Assert.Throws<CircleLossArgumentException>(() => new Circle(options));
        Assert.Equal("options", e.ParamName);
        Assert.Equal(CircleLossStatus.InvalidArgument, e.Status);
        Assert.Equal(nativeArgument, e.NativeArgument);
        Assert.StartsWith(nativeMessage, e.NativeMessage, StringComparison.Ordinal); // NaN prints as the C library prints it
        Assert.NotEmpty(what);
    }

    [Fact]
    public void Options_the_library_rejects_name_the_options()
    {
        // The façade does not know the library's thread limit; the library rejects it with INVALID_ARGUMENT.
        var e = Assert.Throws<CircleLossArgumentException>(() => new Circle(new CircleOptions { Backend = Backend.Cpu, ThreadCount = 1_000_000 }));
        Assert.Equal("options", e.ParamName);
        Assert.Equal(CircleLossStatus.InvalidArgument, e.Status);
        Assert.Contains("num_threads", e.NativeMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4.9406564584124654e-324, 0.4, false, "options->gamma (4.9406564584124654e-324) is zero in float32")]
    [InlineData(1e-40, 0.4, false, "options->gamma (9.9999999999999993e-41) is denormal in float32")]
    [InlineData(80, 1e-40, false, "options->margin (9.9999999999999993e-41) is denormal in float32")]
    [InlineData(1e35, 0.4, false, "options->gamma is too large for float32")]
    [InlineData(4.9406564584124654e-324, 0.4, true, "options->gamma (4.9406564584124654e-324) is denormal in float64")]
    public void Options_that_are_not_normal_numbers_of_the_precision_are_refused(double gamma, double margin, bool float64, string expected)
    {
        // Valid as doubles, so the façade accepts them; the library refuses them in the precision of the call
        // (issue 12: gamma 5e-324 became 0 in float32 and gave NaN with status OK).
        using var circle = new Circle(new CircleOptions { Gamma = gamma, Margin = margin, Backend = Backend.Cpu });
        CircleLossArgumentException e = float64
            ? Assert.Throws<CircleLossArgumentException>(() => circle.Compute(_labels, new double[N, D]))
            : Assert.Throws<CircleLossArgumentException>(() => circle.Compute(_labels, new float[N, D]));
        Assert.Equal("options", e.ParamName);
        Assert.Equal(CircleLossStatus.InvalidArgument, e.Status);
        Assert.Contains(expected, e.NativeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_where_it_cannot_run_is_backend_unavailable()
    {
        BackendAvailability cuda = CircleLossLibrary.QueryBackend(Backend.Cuda);
        if (cuda.IsAvailable)
        {
            using var circle = new Circle(new CircleOptions { Backend = Backend.Cuda });
            Assert.Equal(Backend.Cuda, circle.Backend);
            Assert.Null(circle.FallbackReason);
        }
        else
        {
            var e = Assert.Throws<CircleLossBackendUnavailableException>(() => new Circle(new CircleOptions { Backend = Backend.Cuda }));
            Assert.Equal(CircleLossStatus.BackendUnavailable, e.Status);
            Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
        }
    }
}
