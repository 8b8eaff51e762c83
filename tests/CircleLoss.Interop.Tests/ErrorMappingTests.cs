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
        Exception e = NativeErrors.Create(status, "circleloss_forward", "the native message");
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
        Assert.IsAssignableFrom<OutOfMemoryException>(NativeErrors.Create(circleloss_status.CIRCLELOSS_STATUS_OUT_OF_MEMORY, "f", "m"));
        Assert.IsAssignableFrom<ArgumentException>(NativeErrors.Create(circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT, "f", "m"));
        Assert.IsAssignableFrom<CircleLossException>(NativeErrors.Create(circleloss_status.CIRCLELOSS_STATUS_DEVICE_ERROR, "f", "m"));
    }

    [Theory]
    [InlineData("problem->ref_embeddings has a non-finite value (nan) at row 1, column 2", "refEmbeddings")]
    [InlineData("problem->embeddings has a non-finite value (inf) at row 0, column 0", "embeddings")]
    [InlineData("problem->sample_weights must be >= 0; index 3 is -1", "sampleWeights")]
    [InlineData("problem->upstream has a non-finite value (nan) at index 0", "upstream")]
    [InlineData("options->gamma must be finite and > 0 (got 0)", "options")]
    [InlineData("config->num_threads must be in [0, 4096]", "options")]
    [InlineData("saved_state[3] is nan: not a state written by circleloss_forward", "savedState")]
    [InlineData("gradient_output->grad_ref_embeddings must not be NULL when ref_embeddings are given", "gradRefEmbeddings")]
    [InlineData("problem->m must equal n (3) when only ref_labels is given (got 4)", null)]
    [InlineData("something else entirely", null)]
    public void The_parameter_is_read_from_the_native_message(string message, string? expected) =>
        Assert.Equal(expected, NativeErrors.ParameterName(message));
}
