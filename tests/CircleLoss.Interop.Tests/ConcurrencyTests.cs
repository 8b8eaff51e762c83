using System.Linq;
using System.Threading.Tasks;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>One <see cref="Circle"/> used from many threads at once gives the same results as used from one.</summary>
public class ConcurrencyTests
{
    [Fact]
    public void One_circle_from_many_threads_gives_correct_results()
    {
        ReferenceProblem[] problems = Enumerable.Range(0, 8)
            .Select(i => RandomCases.Make(200 + i, n: 20 + 5 * i, d: 8, refs: i % 2 == 0 ? RefsKind.Self : RefsKind.Both, m: 30, weights: i % 3 == 0))
            .ToArray();
        ReferenceResult[] expected = problems.Select(CircleReference.Compute).ToArray();
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu });

        Parallel.For(0, 8 * 25, new ParallelOptions { MaxDegreeOfParallelism = 8 }, iteration =>
        {
            int k = iteration % problems.Length;
            ReferenceResult actual = iteration % 2 == 0 ? NativeRun.Float64(circle, problems[k]) : NativeRun.Float32(circle, problems[k]);
            double tolerance = iteration % 2 == 0 ? 1e-10 : 1e-4;
            Compare.Close(expected[k].Loss, actual.Loss, tolerance, $"loss of problem {k}");
            Compare.Close(expected[k].GradEmbeddings, actual.GradEmbeddings, tolerance, $"gradient of problem {k}");
            if (expected[k].GradRefEmbeddings is not null)
            {
                Compare.Close(expected[k].GradRefEmbeddings!, actual.GradRefEmbeddings!, tolerance, $"reference gradient of problem {k}");
            }
        });
    }
}
