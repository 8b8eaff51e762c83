using System;
using CircleLoss.Interop.Native;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>The status-to-exception table, including statuses that cannot be provoked on this machine.</summary>
public class ErrorMappingTests
{
    public static TheoryData<int, Type> Table() => new()
    {
        { (int)circleloss_status.CIRCLELOSS_STATUS_INVALID_ARGUMENT, typeof(CircleLossArgumentException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT, typeof(CircleLossNonFiniteInputException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_SIZE_OVERFLOW, typeof(CircleLossArgumentException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, typeof(CircleLossException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_INVALID_SESSION, typeof(CircleLossException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE, typeof(CircleLossBackendUnavailableException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_OUT_OF_MEMORY, typeof(CircleLossOutOfMemoryException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_DEVICE_ERROR, typeof(CircleLossDeviceException) },
        { (int)circleloss_status.CIRCLELOSS_STATUS_INTERNAL_ERROR, typeof(CircleLossException) },
        { 77, typeof(CircleLossException) },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_status_maps_to_its_exception(int code, Type expected)
    {
        var status = (circleloss_status)code;
        CircleLossLibrary.Initialize();
        Exception e = NativeErrors.Create(status, "circleloss_forward", new NativeError("the native message", string.Empty));
        Assert.Equal(expected, e.GetType());
        Assert.Contains("the native message", e.Message, StringComparison.Ordinal);
        Assert.Contains("circleloss_forward", e.Message, StringComparison.Ordinal);
        CircleLossStatus mapped = e switch
        {
            CircleLossException c => c.Status,
            CircleLossArgumentException a => a.Status,
            CircleLossOutOfMemoryException o => o.Status,
            _ => throw new InvalidOperationException("no Status on " + e.GetType()),
        };
        Assert.Equal(Enum.IsDefined((CircleLossStatus)status) ? (CircleLossStatus)status : CircleLossStatus.InternalError, mapped);
    }

    [Fact]
    public void Out_of_memory_is_an_OutOfMemoryException_and_arguments_are_ArgumentExceptions()
    {
        CircleLossLibrary.Initialize();
        Assert.IsAssignableFrom<OutOfMemoryException>(NativeErrors.Create(circleloss_status.CIRCLELOSS_STATUS_OUT_OF_MEMORY, "f", new NativeError("m", string.Empty)));
        Assert.IsAssignableFrom<ArgumentException>(NativeErrors.Create(circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT, "f", new NativeError("m", string.Empty)));
        Assert.IsAssignableFrom<CircleLossException>(NativeErrors.Create(circleloss_status.CIRCLELOSS_STATUS_DEVICE_ERROR, "f", new NativeError("m", string.Empty)));
    }

    [Theory]
    [InlineData("problem->ref_embeddings", "refEmbeddings")]
    [InlineData("problem->embeddings", "embeddings")]
    [InlineData("problem->sample_weights", "sampleWeights")]
    [InlineData("problem->upstream", "upstream")]
    [InlineData("options->gamma", "options")]
    [InlineData("options", "options")]
    [InlineData("config->num_threads", "options")]
    [InlineData("saved_state", "savedState")]
    [InlineData("gradient_output->grad_ref_embeddings", "gradRefEmbeddings")]
    [InlineData("problem->m", null)]
    [InlineData("", null)]
    public void The_parameter_is_the_native_argument_in_the_facades_words(string nativeArgument, string? expected) =>
        Assert.Equal(expected, NativeErrors.ParameterName(nativeArgument));
}
