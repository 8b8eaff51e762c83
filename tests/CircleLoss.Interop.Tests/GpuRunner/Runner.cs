using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using CircleLoss.Interop;
using Xunit;
using Xunit.Abstractions;

namespace CircleLoss.Interop.Tests.GpuRunner;

/// <summary>Test output to the console, indented under the test's line.</summary>
internal sealed class ConsoleOutput : ITestOutputHelper
{
    public void WriteLine(string message) => Console.WriteLine("    | " + message);

    public void WriteLine(string format, params object[] args) => WriteLine(string.Format(CultureInfo.InvariantCulture, format, args));
}

/// <summary>
/// Runs the [Fact]s (CudaFact included) and the [Theory]s with [MemberData] of the test classes whose names contain
/// one of the arguments (all classes without arguments), by reflection, one at a time, and prints PASS, FAIL or
/// SKIP for each. Exit code 0 when nothing failed. With RUNNER_BENCH=1 it then times ForwardBackward over host spans
/// and over device buffers on CUDA.
/// </summary>
internal static class Runner
{
    private static int Main(string[] args)
    {
        Console.WriteLine("CUDA: " + CircleLossLibrary.QueryBackend(Backend.Cuda));
        Console.WriteLine("library: " + CircleLossLibrary.LibraryPath);
        int passed = 0, failed = 0, skipped = 0;
        var total = Stopwatch.StartNew();
        IEnumerable<Type> classes = typeof(Runner).Assembly.GetTypes()
            .Where(t => t.IsClass && t.IsPublic && !t.IsAbstract && (args.Length == 0 || args.Any(a => t.Name.Contains(a, StringComparison.Ordinal))))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (Type type in classes)
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                FactAttribute? fact = method.GetCustomAttribute<FactAttribute>();
                if (fact is null)
                {
                    continue;
                }

                string name = $"{type.Name}.{method.Name}";
                if (fact.Skip is not null)
                {
                    Console.WriteLine($"SKIP {name}: {fact.Skip}");
                    skipped++;
                    continue;
                }

                List<object?[]> rows = [[]];
                if (fact is TheoryAttribute)
                {
                    MemberDataAttribute? data = method.GetCustomAttribute<MemberDataAttribute>();
                    if (data is null)
                    {
                        Console.WriteLine($"SKIP {name}: a theory without MemberData");
                        skipped++;
                        continue;
                    }

                    MethodInfo source = type.GetMethod(data.MemberName, BindingFlags.Public | BindingFlags.Static)!;
                    rows = ((IEnumerable)source.Invoke(null, null)!).Cast<object?[]>().ToList();
                }

                foreach (object?[] row in rows)
                {
                    string label = row.Length == 0 ? name : $"{name}({string.Join(", ", row)})";
                    var watch = Stopwatch.StartNew();
                    try
                    {
                        ConstructorInfo constructor = type.GetConstructors()[0];
                        object instance = constructor.Invoke(constructor.GetParameters().Length == 0 ? null : [new ConsoleOutput()]);
                        method.Invoke(instance, row);
                        (instance as IDisposable)?.Dispose();
                        passed++;
                        if (row.Length == 0 || watch.ElapsedMilliseconds > 500)
                        {
                            Console.WriteLine($"PASS {label} [{watch.Elapsed.TotalMilliseconds:F0} ms]");
                        }
                    }
                    catch (TargetInvocationException e)
                    {
                        failed++;
                        Console.WriteLine($"FAIL {label} [{watch.Elapsed.TotalMilliseconds:F0} ms]: {e.InnerException}");
                    }
                }
            }
        }

        Console.WriteLine($"passed {passed}, failed {failed}, skipped {skipped} in {total.Elapsed.TotalSeconds:F1} s");
        if (Environment.GetEnvironmentVariable("RUNNER_BENCH") == "1")
        {
            Bench();
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>ForwardBackward in float32 on CUDA: host spans (staged by the library) against device buffers.</summary>
    private static void Bench()
    {
        if (!CircleLossLibrary.QueryBackend(Backend.Cuda).IsAvailable)
        {
            Console.WriteLine("bench skipped: no CUDA device");
            return;
        }

        using var circle = new Circle(new CircleOptions { Backend = Backend.Cuda });
        Console.WriteLine("bench session: " + circle.Description);
        foreach ((int n, int d) in new[] { (1024, 128), (8192, 512) })
        {
            var random = new Random(7);
            int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(n / 8)).ToArray();
            var x = new float[n * d];
            for (int i = 0; i < n; i++)
            {
                double norm = 0;
                for (int k = 0; k < d; k++)
                {
                    x[i * d + k] = (float)(random.NextDouble() - 0.5);
                    norm += x[i * d + k] * x[i * d + k];
                }

                for (int k = 0; k < d; k++)
                {
                    x[i * d + k] /= (float)Math.Sqrt(norm);
                }
            }

            var grad = new float[n * d];
            using DeviceBuffer<int> deviceLabels = circle.CreateDeviceBuffer<int>(labels);
            using DeviceBuffer<float> deviceX = circle.CreateDeviceBuffer<float>(x);
            using DeviceBuffer<float> deviceLoss = circle.CreateDeviceBuffer<float>(1);
            using DeviceBuffer<float> deviceGrad = circle.CreateDeviceBuffer<float>(n * d);
            double Time(Action call)
            {
                const int runs = 10;
                for (int i = 0; i < 3; i++)
                {
                    call();
                }

                var watch = Stopwatch.StartNew();
                for (int i = 0; i < runs; i++)
                {
                    call();
                }

                circle.Synchronize();
                return watch.Elapsed.TotalMilliseconds / runs;
            }

            float hostLoss = 0;
            double host = Time(() => hostLoss = circle.LossAndGradients(labels, x, d, grad));
            double device = Time(() => circle.ForwardBackward(deviceLabels, deviceX, d, deviceLoss, deviceGrad));
            bool same = BitConverter.SingleToInt32Bits(hostLoss) == BitConverter.SingleToInt32Bits(deviceLoss.ToArray()[0])
                && deviceGrad.ToArray().AsSpan().SequenceEqual(grad);
            Console.WriteLine($"BENCH N={n} D={d} float32 ForwardBackward: host spans {host:F3} ms/call, device buffers {device:F3} ms/call; results identical: {same}");
        }
    }
}
