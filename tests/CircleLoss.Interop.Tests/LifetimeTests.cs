using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using CircleLoss.Interop.Native;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>Tests that count sessions process-wide run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SessionCountingCollection
{
    public const string Name = "Session counting";
}

[Collection(SessionCountingCollection.Name)]
public class LifetimeTests
{
    private static readonly ReferenceProblem Problem = RandomCases.Make(11, n: 12, d: 5);

    [Fact]
    public void Use_after_dispose_throws_ObjectDisposedException()
    {
        var circle = new Circle();
        circle.Dispose();
        Assert.True(circle.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => circle.Loss(Problem.Labels, Problem.Embeddings, Problem.Dimension));
        var grad = new double[Problem.Embeddings.Length];
        Assert.Throws<ObjectDisposedException>(() => circle.LossAndGradients(Problem.Labels, Problem.Embeddings, Problem.Dimension, grad));
        Assert.Throws<ObjectDisposedException>(() => circle.Compute(Problem.Labels, new double[12, 5]));
        Assert.All(grad, v => Assert.Equal(0.0, v));
        // What was copied at creation stays readable.
        Assert.True(circle.Backend is Backend.Cpu or Backend.Cuda);
        Assert.NotEmpty(circle.Description);
    }

    [Fact]
    public void Dispose_destroys_the_session_once_and_twice_is_harmless()
    {
        long released = SessionHandle.ReleasedCount;
        var circle = new Circle();
        Assert.False(circle.Handle.IsClosed);
        circle.Dispose();
        Assert.True(circle.Handle.IsClosed);
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);
        circle.Dispose();
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);
    }

    [Fact]
    public void An_undisposed_circle_releases_its_session_when_finalised()
    {
        const int count = 8;
        long releasedBefore = SessionHandle.ReleasedCount;
        List<WeakReference> handles = CreateAndDrop(count);

        for (int attempt = 0; attempt < 10 && handles.Any(h => h.IsAlive); attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.All(handles, h => Assert.False(h.IsAlive));
        Assert.True(SessionHandle.ReleasedCount - releasedBefore >= count,
            $"expected at least {count} sessions released by finalisers, saw {SessionHandle.ReleasedCount - releasedBefore}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> CreateAndDrop(int count)
    {
        var handles = new List<WeakReference>();
        for (int i = 0; i < count; i++)
        {
            var circle = new Circle();
            Assert.True(circle.Loss(Problem.Labels, Problem.Embeddings, Problem.Dimension) > 0);
            handles.Add(new WeakReference(circle.Handle, trackResurrection: true));
        }

        return handles;
    }

    [Fact]
    public void Dispose_while_other_threads_compute_is_safe()
    {
        ReferenceProblem p = RandomCases.Make(12, n: 64, d: 16);
        double expected = CircleReference.Compute(p).Loss[0];
        long releasedBefore = SessionHandle.ReleasedCount;
        var circle = new Circle(new CircleOptions { Backend = Backend.Cpu, ThreadCount = 1 });
        int completed = 0, refused = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        // Dedicated threads: thread-pool workers that spin would wait for the pool to grow.
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            try
            {
                while (true)
                {
                    double loss = circle.Loss(p.Labels, p.Embeddings, p.Dimension);
                    Assert.Equal(expected, loss, 1e-9 * expected);
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

        SpinWait.SpinUntil(() => Volatile.Read(ref completed) >= 40 || !failures.IsEmpty, TimeSpan.FromSeconds(30));
        circle.Dispose();
        foreach (Thread worker in workers)
        {
            Assert.True(worker.Join(TimeSpan.FromSeconds(30)));
        }

        Assert.Empty(failures);
        Assert.Equal(4, refused);
        Assert.True(completed >= 40);
        Assert.Equal(releasedBefore + 1, SessionHandle.ReleasedCount);
    }
}
