using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CircleLoss.Interop;
using CircleLoss.Interop.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace CircleLoss.Benchmarks;

/// <summary>One benchmark problem: sizes, data (seeded, L2-normalised rows, balanced labels), the library's loss
/// (façade and direct P/Invoke on the same session and pinned buffers), its product floor, and the TorchSharp loss.</summary>
internal sealed unsafe class Workload : IDisposable
{
    public const int Threads = 2;

    public sealed record Spec(string Key, string Title, int N, int M, int D, int Classes, bool Float64, bool References)
    {
        public override string ToString() => Title;
    }

    public static readonly Spec Self4096 = new("self-4096", "self-similarity N=M=4096, D=256, 256 classes, float32", 4096, 4096, 256, 256, false, false);
    public static readonly Spec Self1024 = new("self-1024", "self-similarity N=M=1024, D=128, 64 classes, float32", 1024, 1024, 128, 64, false, false);
    public static readonly Spec Self1024F64 = new("self-1024-f64", "self-similarity N=M=1024, D=128, 64 classes, float64", 1024, 1024, 128, 64, true, false);
    public static readonly Spec Self256 = new("self-256", "self-similarity N=M=256, D=128, 32 classes, float32", 256, 256, 128, 32, false, false);
    public static readonly Spec Refs262144 = new("refs-262144", "queries vs reference memory N=1024, M=262144, D=128, 256 classes, float32", 1024, 262144, 128, 256, false, true);
    public static readonly Spec Refs16384 = new("refs-16384", "queries vs reference memory N=1024, M=16384, D=128, 256 classes, float32", 1024, 16384, 128, 256, false, true);

    /// <summary>Product-floor samples (seconds) per spec key, gathered around the timed runs.</summary>
    public static readonly ConcurrentDictionary<string, List<double>> FloorSamples = new();

    public static readonly CircleOptions Options = new() { Backend = Backend.Cpu, ThreadCount = Threads };

    public Spec Case { get; }
    public Circle Circle { get; }
    private readonly int[] _labels;
    private readonly int[] _refLabels;
    private readonly Array _x, _r, _gx, _gr; // pinned (GC.AllocateArray(pinned: true))
    private readonly SafeHandle _session;
    private circleloss_options _nativeOptions;
    private circleloss_problem _problem;
    private circleloss_forward_output _forward;
    private circleloss_gradient_output _gradient;
    private readonly Array _lossBox;
    private Tensor? _tx, _tr, _tLabels, _tRefLabels;

    public Workload(Spec spec, CircleOptions? options = null, bool torch = false, int seed = 12345)
    {
        Case = spec;
        NativeDirect.Register();
        Circle = new Circle((options ?? Options) with { Backend = Backend.Cpu, ThreadCount = Threads });
        var random = new Random(seed);
        _labels = BalancedLabels(spec.N, spec.Classes, random);
        _refLabels = spec.References ? BalancedLabels(spec.M, spec.Classes, random) : [];
        _x = Embeddings(spec.N, spec.D, spec.Float64, random);
        _r = spec.References ? Embeddings(spec.M, spec.D, spec.Float64, random) : Embeddings(0, spec.D, spec.Float64, random);
        _gx = Allocate(spec.N * spec.D, spec.Float64);
        _gr = Allocate(spec.References ? (long)spec.M * spec.D : 0, spec.Float64);
        _lossBox = Allocate(1, spec.Float64);

        // The direct call's structs point at the same pinned arrays the façade calls use.
        _session = NativeDirect.SessionOf(Circle);
        _nativeOptions = Circle.NativeOptions;
        circleloss_problem p;
        circleloss_forward_output f;
        circleloss_gradient_output g;
        NativeDirect.Check(NativeMethods.circleloss_problem_init(&p), "circleloss_problem_init");
        NativeDirect.Check(NativeMethods.circleloss_forward_output_init(&f), "circleloss_forward_output_init");
        NativeDirect.Check(NativeMethods.circleloss_gradient_output_init(&g), "circleloss_gradient_output_init");
        p.dtype = spec.Float64 ? circleloss_dtype.CIRCLELOSS_DTYPE_FLOAT64 : circleloss_dtype.CIRCLELOSS_DTYPE_FLOAT32;
        p.n = spec.N;
        p.d = spec.D;
        p.m = spec.References ? spec.M : spec.N;
        p.labels = Address(_labels);
        p.embeddings = Address(_x);
        p.ref_labels = spec.References ? Address(_refLabels) : null;
        p.ref_embeddings = spec.References ? Address(_r) : null;
        f.loss = Address(_lossBox);
        g.grad_embeddings = Address(_gx);
        g.grad_ref_embeddings = spec.References ? Address(_gr) : null;
        _problem = p;
        _forward = f;
        _gradient = g;

        if (torch)
        {
            ScalarType type = spec.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            _tx = Tensor2(_x, spec.N, spec.D, type);
            _tLabels = TorchSharp.torch.tensor(_labels, dtype: ScalarType.Int32);
            if (spec.References)
            {
                _tr = Tensor2(_r, spec.M, spec.D, type);
                _tRefLabels = TorchSharp.torch.tensor(_refLabels, dtype: ScalarType.Int32);
            }
        }
    }

    private static int[] BalancedLabels(int count, int classes, Random random)
    {
        // Every class appears count/classes times (so every row has positives and negatives), in random order.
        int[] labels = GC.AllocateArray<int>(count, pinned: true);
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % classes;
        }

        random.Shuffle(labels);
        return labels;
    }

    private static Array Allocate(long length, bool float64) =>
        float64 ? GC.AllocateArray<double>(checked((int)length), pinned: true) : GC.AllocateArray<float>(checked((int)length), pinned: true);

    private static Array Embeddings(int rows, int d, bool float64, Random random)
    {
        Array result = Allocate((long)rows * d, float64);
        var row = new double[d];
        for (int i = 0; i < rows; i++)
        {
            double norm = 0;
            for (int k = 0; k < d; k++)
            {
                // Box-Muller: a Gaussian direction, uniform on the sphere once normalised.
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                row[k] = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
                norm += row[k] * row[k];
            }

            norm = Math.Sqrt(norm);
            for (int k = 0; k < d; k++)
            {
                if (float64)
                {
                    ((double[])result)[(long)i * d + k] = row[k] / norm;
                }
                else
                {
                    ((float[])result)[(long)i * d + k] = (float)(row[k] / norm);
                }
            }
        }

        return result;
    }

    private static void* Address(Array array) =>
        array.Length == 0 ? null : (void*)Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);

    private static Tensor Tensor2(Array data, int rows, int d, ScalarType type)
    {
        Tensor t = data is double[] dd ? TorchSharp.torch.tensor(dd, rows, d, dtype: type) : TorchSharp.torch.tensor((float[])data, rows, d, dtype: type);
        return t.requires_grad_(true);
    }

    // ---------------------------------------------------------------- the timed operations

    /// <summary>The façade: Circle.LossAndGradients on spans over the pinned arrays.</summary>
    public double Library()
    {
        if (Case.Float64)
        {
            var x = (double[])_x;
            return Case.References
                ? Circle.LossAndGradients(_labels, x, Case.D, (double[])_gx, (double[])_gr, default, _refLabels, (double[])_r)
                : Circle.LossAndGradients(_labels, x, Case.D, (double[])_gx);
        }

        var xf = (float[])_x;
        return Case.References
            ? Circle.LossAndGradients(_labels, xf, Case.D, (float[])_gx, (float[])_gr, default, _refLabels, (float[])_r)
            : Circle.LossAndGradients(_labels, xf, Case.D, (float[])_gx);
    }

    /// <summary>The same computation by a direct P/Invoke of circleloss_forward_backward, same session and buffers.</summary>
    public int Direct()
    {
        circleloss_options o = _nativeOptions;
        circleloss_problem p = _problem;
        circleloss_forward_output f = _forward;
        circleloss_gradient_output g = _gradient;
        circleloss_status status = NativeDirect.ForwardBackward(&f, &g, _session, &o, &p);
        NativeDirect.Check(status, "circleloss_forward_backward");
        return (int)status;
    }

    /// <summary>One measurement of the product floor (seconds, as the library times it).</summary>
    public double Floor()
    {
        circleloss_problem p = _problem;
        double seconds;
        NativeDirect.Check(NativeDirect.MeasureProductFloor(&seconds, _session, &p), "circleloss_measure_product_floor");
        return seconds;
    }

    /// <summary>Measures the floor at least <paramref name="minCount"/> times and for at least <paramref name="minSeconds"/>
    /// (at most 25 times), recording the samples under the case's key.</summary>
    public void SampleFloor(int minCount = 5, double minSeconds = 1.0)
    {
        List<double> list = FloorSamples.GetOrAdd(Case.Key, _ => []);
        Floor(); // first touch of OpenBLAS's buffers and threads: not recorded
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < 25 && (i < minCount || System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds < minSeconds); i++)
        {
            double s = Floor();
            lock (list)
            {
                list.Add(s);
            }
        }

        // OpenBLAS's workers spin for a while after a threaded call: let them go idle before anything is timed.
        System.Threading.Thread.Sleep(300);
    }

    /// <summary>The TorchSharp step (forward, autograd backward), gradients left in the tensors autograd returns.</summary>
    public double Torch() =>
        TorchCircle.LossAndGradients(_tx!, _tLabels!, _tr, _tRefLabels, Circle.Options.Gamma, Circle.Options.Margin, Circle.Options.RemoveDiagonal, null, null);

    // ---------------------------------------------------------------- agreement check

    /// <summary>Runs both once and returns (library loss, torch loss, max |dX diff| / max |dX|, same for dR).</summary>
    public (double LibraryLoss, double TorchLoss, double GradX, double GradR) Compare()
    {
        double libraryLoss = Library();
        double[] gx = ToDouble(_gx);
        double[] gr = ToDouble(_gr);
        Array tgx = Allocate(_gx.Length, Case.Float64);
        Array tgr = Allocate(_gr.Length, Case.Float64);
        double torchLoss = TorchCircle.LossAndGradients(_tx!, _tLabels!, _tr, _tRefLabels, Circle.Options.Gamma, Circle.Options.Margin,
            Circle.Options.RemoveDiagonal, tgx, Case.References ? tgr : null);
        return (libraryLoss, torchLoss, RelativeMaxDiff(gx, ToDouble(tgx)), RelativeMaxDiff(gr, ToDouble(tgr)));
    }

    private static double[] ToDouble(Array a) => a is double[] d ? (double[])d.Clone() : ((float[])a).Select(v => (double)v).ToArray();

    private static double RelativeMaxDiff(double[] a, double[] b)
    {
        if (a.Length == 0)
        {
            return 0;
        }

        double scale = 0, diff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(a[i]));
            double d = Math.Abs(a[i] - b[i]);
            diff = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(diff, d);
        }

        return scale == 0 ? diff : diff / scale;
    }

    public void Dispose()
    {
        _tx?.Dispose();
        _tr?.Dispose();
        _tLabels?.Dispose();
        _tRefLabels?.Dispose();
        Circle.Dispose();
    }
}
