using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CircleLoss.Interop;

/// <summary>
/// The labels of one call, as 32-bit or 64-bit integers (64-bit is the default integer type of TorchSharp and
/// PyTorch tensors), read where they are: no copy, no conversion. Only equality of labels matters, so any value
/// is a valid label. Converts implicitly from spans and arrays of <see cref="int"/> and <see cref="long"/>.
/// </summary>
public readonly ref struct LabelSpan
{
    private readonly ReadOnlySpan<int> _int32;
    private readonly ReadOnlySpan<long> _int64;

    /// <summary>Labels as 32-bit integers.</summary>
    /// <param name="labels">The labels.</param>
    public LabelSpan(ReadOnlySpan<int> labels)
    {
        _int32 = labels;
        IsInt64 = false;
    }

    /// <summary>Labels as 64-bit integers.</summary>
    /// <param name="labels">The labels.</param>
    public LabelSpan(ReadOnlySpan<long> labels)
    {
        _int64 = labels;
        IsInt64 = true;
    }

    /// <summary>Whether the labels are 64-bit integers.</summary>
    public bool IsInt64 { get; }

    /// <summary>The number of labels.</summary>
    public int Length => IsInt64 ? _int64.Length : _int32.Length;

    /// <summary>Whether there are no labels.</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>The labels' size in bytes.</summary>
    /// <summary>The labels' bytes in the machine's byte order (4 or 8 per label): for copying or sending them to
    /// other processes. <see cref="FromBytes"/> reads them back.</summary>
    /// <returns>A view of the same memory.</returns>
    public ReadOnlySpan<byte> AsBytes() => IsInt64 ? MemoryMarshal.AsBytes(_int64) : MemoryMarshal.AsBytes(_int32);

    /// <summary>Labels from their bytes (as <see cref="AsBytes"/> gives them), without copying.</summary>
    /// <param name="bytes">4 bytes per 32-bit label or 8 per 64-bit label, in the machine's byte order.</param>
    /// <param name="int64">Whether the labels are 64-bit.</param>
    /// <returns>A view of the same memory.</returns>
    /// <exception cref="ArgumentException">The length of <paramref name="bytes"/> is not a multiple of the label size.</exception>
    public static LabelSpan FromBytes(ReadOnlySpan<byte> bytes, bool int64)
    {
        int size = int64 ? sizeof(long) : sizeof(int);
        if (bytes.Length % size != 0)
        {
            throw new ArgumentException($"bytes must hold a multiple of {size} bytes ({(int64 ? 64 : 32)}-bit labels), but holds {bytes.Length}.", nameof(bytes));
        }

        return int64 ? new LabelSpan(MemoryMarshal.Cast<byte, long>(bytes)) : new LabelSpan(MemoryMarshal.Cast<byte, int>(bytes));
    }

    internal long ByteLength => IsInt64 ? _int64.Length * (long)sizeof(long) : _int32.Length * (long)sizeof(int);

    /// <summary>32-bit labels.</summary>
    /// <param name="labels">The labels.</param>
    public static implicit operator LabelSpan(ReadOnlySpan<int> labels) => new(labels);

    /// <summary>64-bit labels.</summary>
    /// <param name="labels">The labels.</param>
    public static implicit operator LabelSpan(ReadOnlySpan<long> labels) => new(labels);

    /// <summary>32-bit labels (null: none).</summary>
    /// <param name="labels">The labels.</param>
    public static implicit operator LabelSpan(int[]? labels) => new(labels);

    /// <summary>64-bit labels (null: none).</summary>
    /// <param name="labels">The labels.</param>
    public static implicit operator LabelSpan(long[]? labels) => new(labels);

    /// <summary>32-bit labels.</summary>
    /// <param name="labels">The labels.</param>
    /// <returns>The labels as a <see cref="LabelSpan"/>.</returns>
    public static LabelSpan FromInt32(ReadOnlySpan<int> labels) => new(labels);

    /// <summary>64-bit labels.</summary>
    /// <param name="labels">The labels.</param>
    /// <returns>The labels as a <see cref="LabelSpan"/>.</returns>
    public static LabelSpan FromInt64(ReadOnlySpan<long> labels) => new(labels);

    /// <summary>The first byte, for pinning with <c>fixed</c> (a null reference when empty).</summary>
    /// <returns>A reference to the first label's first byte.</returns>
    internal ref byte GetPinnableReference()
    {
        if (Length == 0)
        {
            return ref Unsafe.NullRef<byte>();
        }

        return ref IsInt64
            ? ref Unsafe.As<long, byte>(ref MemoryMarshal.GetReference(_int64))
            : ref Unsafe.As<int, byte>(ref MemoryMarshal.GetReference(_int32));
    }
}
