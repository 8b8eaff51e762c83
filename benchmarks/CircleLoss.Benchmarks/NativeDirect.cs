using System;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CircleLoss.Interop;

namespace CircleLoss.Benchmarks;

// Benchmark-only P/Invoke to the same libcircleloss.so the façade loaded: the direct call that the façade's overhead
// is measured against, and circleloss_measure_product_floor (not exposed by the façade). The struct layouts are
// copied from the C header (native/include/circleloss/circleloss.h); sizes are checked at start-up.

[StructLayout(LayoutKind.Sequential)]
internal struct ClOptions
{
    public uint StructSize;
    public int RemoveDiagonal;
    public double Gamma;
    public double Margin;
    public int Reduction;
    public int GradientMode;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ClProblem
{
    public uint StructSize;
    public int Dtype; // 0 float32, 1 float64
    public int Memory; // 0 host
    public int Reserved0;
    public long N;
    public long D;
    public long M;
    public int* Labels;
    public void* Embeddings;
    public int* RefLabels;
    public void* RefEmbeddings;
    public void* SampleWeights;
    public void* Upstream;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ClForwardOutput
{
    public uint StructSize;
    public int Reserved0;
    public void* Loss;
    public void* PerSampleLoss;
    public byte* Mask;
    public void* SavedState;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ClGradientOutput
{
    public uint StructSize;
    public int Reserved0;
    public void* GradEmbeddings;
    public void* GradRefEmbeddings;
}

internal static unsafe partial class NativeDirect
{
    private const string Library = "circleloss";

    [LibraryImport(Library, EntryPoint = "circleloss_options_init")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static partial int OptionsInit(ClOptions* options);

    [LibraryImport(Library, EntryPoint = "circleloss_problem_init")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static partial int ProblemInit(ClProblem* problem);

    [LibraryImport(Library, EntryPoint = "circleloss_forward_output_init")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static partial int ForwardOutputInit(ClForwardOutput* output);

    [LibraryImport(Library, EntryPoint = "circleloss_gradient_output_init")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static partial int GradientOutputInit(ClGradientOutput* output);

    [LibraryImport(Library, EntryPoint = "circleloss_forward_backward")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static partial int ForwardBackward(ClForwardOutput* forward, ClGradientOutput* gradient, IntPtr session, ClOptions* options, ClProblem* problem);

    [LibraryImport(Library, EntryPoint = "circleloss_measure_product_floor")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static partial int MeasureProductFloor(double* seconds, IntPtr session, ClProblem* problem);

    [LibraryImport(Library, EntryPoint = "circleloss_last_error")]
    [UnmanagedCallConv(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static partial IntPtr LastErrorPointer();

    public static string LastError() => Marshal.PtrToStringUTF8(LastErrorPointer()) ?? "";

    private static bool s_registered;

    /// <summary>Makes "circleloss" in this assembly resolve to the very file the façade loaded.</summary>
    public static void Register()
    {
        if (s_registered)
        {
            return;
        }

        CircleLossLibrary.Initialize();
        string path = CircleLossLibrary.LibraryPath;
        NativeLibrary.SetDllImportResolver(typeof(NativeDirect).Assembly, (name, _, _) =>
            name == Library ? NativeLibrary.Load(path) : IntPtr.Zero);
        s_registered = true;

        ClOptions o;
        ClProblem p;
        ClForwardOutput f;
        ClGradientOutput g;
        Check(OptionsInit(&o), "circleloss_options_init");
        Check(ProblemInit(&p), "circleloss_problem_init");
        Check(ForwardOutputInit(&f), "circleloss_forward_output_init");
        Check(GradientOutputInit(&g), "circleloss_gradient_output_init");
        if (o.StructSize != sizeof(ClOptions) || p.StructSize != sizeof(ClProblem) || f.StructSize != sizeof(ClForwardOutput) || g.StructSize != sizeof(ClGradientOutput))
        {
            throw new InvalidOperationException("The benchmark's copies of the C structs do not match the loaded library's sizes.");
        }
    }

    public static void Check(int status, string function)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"{function} failed with status {status}: {LastError()}");
        }
    }

    /// <summary>The façade's own native session (its internal <c>Handle</c>), so that direct calls and façade calls
    /// run on the same session, threads and buffers.</summary>
    public static SafeHandle SessionOf(Circle circle)
    {
        PropertyInfo property = typeof(Circle).GetProperty("Handle", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Circle.Handle (internal) not found: update the benchmark's NativeDirect.SessionOf.");
        return (SafeHandle)property.GetValue(circle)!;
    }

    public static ClOptions OptionsOf(CircleOptions options)
    {
        ClOptions o;
        Check(OptionsInit(&o), "circleloss_options_init");
        o.Gamma = options.Gamma;
        o.Margin = options.Margin;
        o.RemoveDiagonal = options.RemoveDiagonal ? 1 : 0;
        o.Reduction = (int)options.Reduction;
        o.GradientMode = (int)options.GradientMode;
        return o;
    }
}
