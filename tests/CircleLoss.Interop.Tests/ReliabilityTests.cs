using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using CircleLoss.Interop.Native;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace CircleLoss.Interop.Tests;

/// <summary>
/// Issue 9, at the façade: memory stays flat over many create/compute/dispose cycles and over the finaliser-only
/// release path; SafeHandle reference counting keeps a session alive under an in-flight call; disposal racing with
/// calls; results from many threads are bitwise those of one; workspace exhaustion. What LifetimeTests and
/// ConcurrencyTests already cover (one dispose racing four looping threads, eight undisposed Circles finalised,
/// 8 × 25 concurrent calls within a tolerance of the reference) is not repeated here. The whole class runs alone
/// (it counts sessions and reads the process's resident memory) in about 10–20 s.
/// </summary>
[Collection(SessionCountingCollection.Name)]
public class ReliabilityTests
{
    /// <summary>Slack for the resident set between two points of a test: allocator and runtime noise, far below what a
    /// leak of one native session (kilobytes: thread pool, scratch) per cycle would add over thousands of cycles.</summary>
    private const long RssToleranceBytes = 12L << 20;

    private readonly ITestOutputHelper _output;

    public ReliabilityTests(ITestOutputHelper output) => _output = output;

    private static readonly CircleOptions SingleThreaded = new() { Backend = Backend.Cpu, ThreadCount = 1 };

    /// <summary>The process's resident set in bytes (/proc/self/statm where there is one), after a full collection.</summary>
    private static long ResidentBytes() => Measure().Resident;

    /// <summary>The resident set, and the part of it that is not the managed heap's committed memory (what native
    /// sessions use, with the runtime's own native memory), after a full collection.</summary>
    private static (long Resident, long NonManaged) Measure()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        GC.Collect();
        long resident = Environment.WorkingSet;
        const string statm = "/proc/self/statm";
        if (File.Exists(statm))
        {
            string[] fields = File.ReadAllText(statm).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            resident = long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }

        return (resident, resident - GC.GetGCMemoryInfo().TotalCommittedBytes);
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0:F1} MiB";

    // ---- memory ----

    [Fact]
    public void Create_compute_dispose_cycles_keep_memory_flat()
    {
        const int warmUp = 5_000;
        const int cycles = 100_000;
        ReferenceProblem p = RandomCases.Make(91, n: 6, d: 3);
        float[] x = p.Embeddings.ToSingle();
        var grad = new float[x.Length];
        float expected;
        using (var first = new Circle(SingleThreaded))
        {
            expected = first.LossAndGradients(p.Labels, x, p.Dimension, grad);
        }

        Assert.True(expected > 0);
        void Cycles(int count)
        {
            for (int i = 0; i < count; i++)
            {
                using var circle = new Circle(SingleThreaded);
                float loss = circle.LossAndGradients(p.Labels, x, p.Dimension, grad);
                if (BitConverter.SingleToInt32Bits(loss) != BitConverter.SingleToInt32Bits(expected))
                {
                    throw new XunitException($"cycle {i}: loss {loss:R}, expected {expected:R}");
                }
            }
        }

        Cycles(warmUp);
        long created = SessionHandle.CreatedCount, released = SessionHandle.ReleasedCount;
        var before = Measure();
        var watch = Stopwatch.StartNew();
        Cycles(cycles / 2);
        var middle = Measure();
        Cycles(cycles - cycles / 2);
        watch.Stop();
        var after = Measure();
        _output.WriteLine($"{cycles} cycles in {watch.Elapsed.TotalSeconds:F1} s ({watch.Elapsed.TotalMilliseconds * 1000 / cycles:F1} µs each); " +
            $"resident {Mib(before.Resident)} → {Mib(middle.Resident)} → {Mib(after.Resident)}, " +
            $"of which not the managed heap {Mib(before.NonManaged)} → {Mib(middle.NonManaged)} → {Mib(after.NonManaged)}");

        Assert.Equal(cycles, SessionHandle.CreatedCount - created);
        Assert.Equal(cycles, SessionHandle.ReleasedCount - released);
        // Native memory (sessions, their pools and scratch): flat. A leaked session per cycle would be hundreds of MiB.
        Assert.True(after.NonManaged - before.NonManaged < RssToleranceBytes,
            $"non-managed resident memory grew by {Mib(after.NonManaged - before.NonManaged)} over {cycles} cycles");
        Assert.True(after.NonManaged - middle.NonManaged < RssToleranceBytes / 2,
            $"non-managed resident memory grew by {Mib(after.NonManaged - middle.NonManaged)} over the last {cycles - cycles / 2} cycles");
        // The whole process, the managed heap's growth to its working size included.
        Assert.True(after.Resident - before.Resident < 2 * RssToleranceBytes,
            $"resident memory grew by {Mib(after.Resident - before.Resident)} over {cycles} cycles ({(after.Resident - before.Resident) / (double)cycles:F0} bytes per cycle)");
    }

    [Fact]
    public void The_finaliser_only_release_path_frees_every_session_and_keeps_memory_flat()
    {
        const int rounds = 5;
        const int perRound = 2_000;
        ReferenceProblem p = RandomCases.Make(92, n: 6, d: 3);
        long created = SessionHandle.CreatedCount, released = SessionHandle.ReleasedCount;
        var resident = new long[rounds];
        for (int round = 0; round < rounds; round++)
        {
            CreateAndAbandon(perRound, p);
            resident[round] = ResidentBytes(); // collects, and waits for the finalisers
            Assert.Equal(SessionHandle.CreatedCount - created, SessionHandle.ReleasedCount - released);
        }

        _output.WriteLine($"{rounds} × {perRound} undisposed Circles; resident after each round: {string.Join(", ", resident.Select(Mib))}");
        Assert.Equal(rounds * perRound, SessionHandle.CreatedCount - created);
        Assert.Equal(rounds * perRound, SessionHandle.ReleasedCount - released);
        Assert.True(resident[^1] - resident[0] < RssToleranceBytes,
            $"resident memory grew by {Mib(resident[^1] - resident[0])} from round 1 to round {rounds}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CreateAndAbandon(int count, ReferenceProblem p)
    {
        for (int i = 0; i < count; i++)
        {
            var circle = new Circle(SingleThreaded); // never disposed
            Assert.True(circle.Loss(p.Labels, p.Embeddings, p.Dimension) > 0);
        }
    }

    // ---- SafeHandle reference counting and disposal races ----

    [Fact]
    public void An_in_flight_call_keeps_its_session_alive_and_Dispose_takes_effect_after_it()
    {
        // A call of some tens of milliseconds on one thread; Dispose comes a third of the way into it. On a machine
        // too busy for that timing the attempt is repeated (each attempt checks the result and the single release).
        ReferenceProblem p = RandomCases.Make(93, n: 2048, d: 256);
        int n = p.N, d = p.Dimension;
        var expectedGrad = new double[n * d];
        double expectedLoss;
        var timer = Stopwatch.StartNew();
        using (var reference = new Circle(SingleThreaded))
        {
            expectedLoss = reference.LossAndGradients(p.Labels, p.Embeddings, d, expectedGrad);
        }

        int delay = Math.Max(1, (int)(timer.ElapsedMilliseconds / 3));
        bool everInFlight = false;
        for (int attempt = 0; attempt < 5 && !everInFlight; attempt++)
        {
            long released = SessionHandle.ReleasedCount;
            var circle = new Circle(SingleThreaded);
            var grad = new double[n * d];
            double loss = double.NaN;
            Exception? failure = null;
            using var starting = new ManualResetEventSlim();
            int finished = 0;
            var worker = new Thread(() =>
            {
                try
                {
                    starting.Set();
                    loss = circle.LossAndGradients(p.Labels, p.Embeddings, d, grad);
                }
                catch (Exception e)
                {
                    failure = e;
                }
                finally
                {
                    Volatile.Write(ref finished, 1);
                }
            });
            worker.Start();
            starting.Wait();
            Thread.Sleep(delay); // let the call enter the library

            circle.Dispose();
            long releasedAtDispose = SessionHandle.ReleasedCount; // read before `finished`: see below
            bool inFlight = Volatile.Read(ref finished) == 0;
            Assert.True(circle.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => circle.Loss(p.Labels, p.Embeddings, d)); // new calls are refused at once
            Assert.True(worker.Join(TimeSpan.FromSeconds(60)));
            _output.WriteLine($"attempt {attempt + 1}: Dispose {delay} ms into a call of about {3 * delay} ms; call {(inFlight ? "in flight" : "already returned")}");

            if (inFlight)
            {
                // The call had not returned when the count was read: the running call held the session.
                Assert.Equal(released, releasedAtDispose);
                everInFlight = true;
            }

            Assert.Null(failure); // the call finished, and correctly
            Assert.Equal(BitConverter.DoubleToInt64Bits(expectedLoss), BitConverter.DoubleToInt64Bits(loss));
            AssertBitwise(expectedGrad, grad, "gradient of the in-flight call");
            Assert.Equal(released + 1, SessionHandle.ReleasedCount); // then the session went, once
        }

        Assert.True(everInFlight, "in five attempts the call never was in flight when Dispose was called");
    }

    [Fact]
    public void Dispose_at_random_moments_of_concurrent_calls_is_safe()
    {
        // Many short races (LifetimeTests has one long one): each call returns the right result or throws
        // ObjectDisposedException, nothing else, and each session is destroyed exactly once.
        const int rounds = 150;
        ReferenceProblem p = RandomCases.Make(94, n: 48, d: 16, refs: RefsKind.Both, m: 40);
        var expectedGrad = new double[p.N * p.Dimension];
        var expectedGradRef = new double[p.RefEmbeddings!.Length];
        double expected;
        using (var reference = new Circle(SingleThreaded))
        {
            expected = reference.LossAndGradients(p.Labels, p.Embeddings, p.Dimension, expectedGrad, expectedGradRef, refLabels: p.RefLabels, refEmbeddings: p.RefEmbeddings);
        }

        var random = new Random(94);
        long released = SessionHandle.ReleasedCount;
        int completed = 0, refused = 0;
        var failures = new ConcurrentQueue<Exception>();
        for (int round = 0; round < rounds; round++)
        {
            var circle = new Circle(SingleThreaded);
            using var go = new ManualResetEventSlim();
            Thread[] workers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                var grad = new double[expectedGrad.Length];
                var gradRef = new double[expectedGradRef.Length];
                go.Wait();
                try
                {
                    while (true)
                    {
                        double loss = circle.LossAndGradients(p.Labels, p.Embeddings, p.Dimension, grad, gradRef, refLabels: p.RefLabels, refEmbeddings: p.RefEmbeddings);
                        if (BitConverter.DoubleToInt64Bits(loss) != BitConverter.DoubleToInt64Bits(expected)
                            || !MemoryMarshal.AsBytes(grad.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(expectedGrad.AsSpan()))
                            || !MemoryMarshal.AsBytes(gradRef.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(expectedGradRef.AsSpan())))
                        {
                            throw new XunitException("a call racing Dispose returned a wrong result");
                        }

                        Interlocked.Increment(ref completed);
                    }
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            })).ToArray();
            foreach (Thread worker in workers)
            {
                worker.Start();
            }

            go.Set();
            Thread.SpinWait(random.Next(50_000)); // from before the first call to a few calls in
            circle.Dispose();
            foreach (Thread worker in workers)
            {
                Assert.True(worker.Join(TimeSpan.FromSeconds(30)));
            }

            Assert.Equal(released + round + 1, SessionHandle.ReleasedCount);
        }

        _output.WriteLine($"{rounds} rounds: {completed} calls completed, {refused} refused after Dispose");
        Assert.Empty(failures);
        Assert.Equal(2 * rounds, refused);
        Assert.Equal(released + rounds, SessionHandle.ReleasedCount);
    }

    // ---- results from many threads ----

    private sealed record Case(string Name, Func<Circle, byte[]> Run);

    /// <summary>Four problems (self and reference sets, float32 and float64, weights, reduction None with an upstream
    /// gradient); each run returns the bytes of every output, for bitwise comparison.</summary>
    private static Case[] Cases()
    {
        ReferenceProblem self = RandomCases.Make(95, n: 40, d: 12, weights: true);
        ReferenceProblem refs = RandomCases.Make(96, n: 24, d: 12, refs: RefsKind.Both, m: 56);
        ReferenceProblem none = RandomCases.Make(97, n: 32, d: 8, reduction: Reduction.None, upstream: true);
        float[] selfX = self.Embeddings.ToSingle(), selfW = self.SampleWeights!.ToSingle();
        float[] noneX = none.Embeddings.ToSingle(), noneUp = none.Upstream!.ToSingle();
        return
        [
            new("self float32 weighted", circle =>
            {
                var loss = new float[1];
                var perSample = new float[self.N];
                var mask = new bool[self.N];
                var grad = new float[selfX.Length];
                circle.ForwardBackward(self.Labels, selfX, self.Dimension, loss, grad, default, perSample, mask, default, selfW);
                return Bytes(loss, perSample, grad, mask);
            }),
            new("self float64", circle =>
            {
                var loss = new double[1];
                var grad = new double[self.Embeddings.Length];
                circle.ForwardBackward(self.Labels, self.Embeddings, self.Dimension, loss, grad);
                return Bytes(loss, grad);
            }),
            new("references float64", circle =>
            {
                var loss = new double[1];
                var grad = new double[refs.Embeddings.Length];
                var gradRef = new double[refs.RefEmbeddings!.Length];
                circle.ForwardBackward(refs.Labels, refs.Embeddings, refs.Dimension, loss, grad, gradRef, refLabels: refs.RefLabels, refEmbeddings: refs.RefEmbeddings);
                return Bytes(loss, grad, gradRef);
            }),
            new("reduction None float32 with upstream", circle =>
            {
                var loss = new float[none.N];
                var grad = new float[noneX.Length];
                circle.ForwardBackward(none.Labels, noneX, none.Dimension, loss, grad, upstream: noneUp);
                return Bytes(loss, grad);
            }),
        ];
    }

    private static byte[] Bytes<T1, T2>(T1[] a, T2[] b)
        where T1 : unmanaged
        where T2 : unmanaged =>
        [.. MemoryMarshal.AsBytes(a.AsSpan()), .. MemoryMarshal.AsBytes(b.AsSpan())];

    private static byte[] Bytes<T>(T[] a, T[] b, T[] c)
        where T : unmanaged =>
        [.. MemoryMarshal.AsBytes(a.AsSpan()), .. MemoryMarshal.AsBytes(b.AsSpan()), .. MemoryMarshal.AsBytes(c.AsSpan())];

    private static byte[] Bytes(float[] a, float[] b, float[] c, bool[] mask) =>
        [.. Bytes(a, b, c), .. MemoryMarshal.AsBytes(mask.AsSpan())];

    private static CircleOptions OptionsFor(Case c) =>
        c.Name.StartsWith("reduction None", StringComparison.Ordinal)
            ? SingleThreaded with { Reduction = Reduction.None }
            : SingleThreaded;

    [Fact]
    public void Eight_threads_times_1000_calls_on_one_shared_Circle_give_the_single_threaded_results_bitwise()
    {
        RunThreads(shared: true);
    }

    [Fact]
    public void Eight_threads_times_1000_calls_on_separate_Circles_give_the_single_threaded_results_bitwise()
    {
        RunThreads(shared: false);
    }

    private void RunThreads(bool shared)
    {
        const int threads = 8;
        const int callsPerThread = 1_000;
        Case[] cases = Cases();
        CircleOptions[] options = cases.Select(OptionsFor).ToArray();
        byte[][] expected = cases.Select((c, k) =>
        {
            using var circle = new Circle(options[k]);
            return c.Run(circle);
        }).ToArray();

        // Shared: one Circle per option set, used by all threads; separate: one per thread and option set.
        Circle[] sharedCircles = shared ? options.Distinct().Select(o => new Circle(o)).ToArray() : [];
        Circle CircleFor(int k, Circle[] own) =>
            (shared ? sharedCircles : own)[Array.IndexOf(options.Distinct().ToArray(), options[k])];

        var failures = new ConcurrentQueue<string>();
        int calls = 0;
        var watch = Stopwatch.StartNew();
        try
        {
            using var go = new ManualResetEventSlim();
            Thread[] workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                Circle[] own = shared ? [] : options.Distinct().Select(o => new Circle(o)).ToArray();
                try
                {
                    go.Wait();
                    for (int i = 0; i < callsPerThread; i++)
                    {
                        int k = (t + i) % cases.Length;
                        byte[] actual = cases[k].Run(CircleFor(k, own));
                        if (!actual.AsSpan().SequenceEqual(expected[k]))
                        {
                            failures.Enqueue($"thread {t}, call {i}: {cases[k].Name} differs from the single-threaded result");
                        }

                        Interlocked.Increment(ref calls);
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue($"thread {t}: {e}");
                }
                finally
                {
                    foreach (Circle circle in own)
                    {
                        circle.Dispose();
                    }
                }
            })).ToArray();
            foreach (Thread worker in workers)
            {
                worker.Start();
            }

            go.Set();
            foreach (Thread worker in workers)
            {
                Assert.True(worker.Join(TimeSpan.FromSeconds(120)));
            }
        }
        finally
        {
            foreach (Circle circle in sharedCircles)
            {
                circle.Dispose();
            }
        }

        _output.WriteLine($"{calls} calls on {(shared ? "shared" : "separate")} Circles in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.IsEmpty, string.Join(Environment.NewLine, failures.Take(10)));
        Assert.Equal(threads * callsPerThread, calls);
    }

    // ---- exhaustion ----

    [Fact]
    public void A_problem_too_large_for_the_workspace_limit_throws_OutOfMemory_with_outputs_untouched()
    {
        // 256 KiB: enough for small problems, not for the streamed tiles of a 2048-row one (its N×N matrix is 32 MiB).
        using var circle = new Circle(SingleThreaded with { WorkspaceLimitBytes = 256 * 1024 });
        ReferenceProblem big = RandomCases.Make(98, n: 2048, d: 8);
        var loss = new double[] { 42 };
        var perSample = Enumerable.Repeat(42.0, big.N).ToArray();
        var mask = Enumerable.Repeat(true, big.N).ToArray();
        var grad = Enumerable.Repeat(42.0, big.Embeddings.Length).ToArray();

        var e = Assert.Throws<CircleLossOutOfMemoryException>(
            () => circle.ForwardBackward(big.Labels, big.Embeddings, big.Dimension, loss, grad, default, perSample, mask));
        Assert.Equal(CircleLossStatus.OutOfMemory, e.Status);
        Assert.Contains("workspace", e.NativeMessage, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OutOfMemoryException>(e);
        Assert.Equal(42.0, loss[0]);
        Assert.All(perSample, v => Assert.Equal(42.0, v));
        Assert.All(mask, Assert.True);
        Assert.All(grad, v => Assert.Equal(42.0, v));
        Assert.Throws<CircleLossOutOfMemoryException>(() => circle.Loss(big.Labels, big.Embeddings.ToSingle(), big.Dimension));

        // The Circle stays usable for what fits.
        ReferenceProblem small = RandomCases.Make(99, n: 16, d: 8);
        using var unlimited = new Circle(SingleThreaded);
        Assert.Equal(unlimited.Loss(small.Labels, small.Embeddings, small.Dimension), circle.Loss(small.Labels, small.Embeddings, small.Dimension));
    }

    private static void AssertBitwise(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
            {
                throw new XunitException($"{what}: differs at {i}: {expected[i]:R} vs {actual[i]:R}");
            }
        }
    }
}
