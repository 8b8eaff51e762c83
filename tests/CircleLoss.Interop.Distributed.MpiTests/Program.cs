using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CircleLoss.Interop;
using CircleLoss.Interop.Distributed;
using CircleLoss.Interop.Distributed.MpiTests;

// Every rank of `mpirun -np K` runs this (eng/mpi-tests.sh runs K = 1 to 4). Rank 0 prints one line per test and
// "mpi-tests K ranks: P passed, F failed"; the exit code is 0 when every test passed. `--abort-on-rank R`: rank R
// throws an exception that nobody catches while the others wait in a collective (the job must be aborted).
// `--bench N D steps`: the scaling figures of docs/distributed.md (Bench.cs).
using OpenMpiCollectives mpi = OpenMpiCollectives.Initialize();
int rank = mpi.Rank, size = mpi.Size;
void Say(string line)
{
    if (rank == 0)
    {
        Console.WriteLine(line);
    }
}

int abortRank = args.Length == 2 && args[0] == "--abort-on-rank" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : -1;
if (abortRank >= 0)
{
    if (rank == abortRank)
    {
        throw new InvalidOperationException($"rank {rank} fails outside the loss, as a program's bug would");
    }

    mpi.AllReduceSum<double>(new double[1]); // waits for the failed rank: only the job's abort ends it
    Console.WriteLine($"rank {rank} was not aborted");
    return 2;
}

if (args.Length == 4 && args[0] == "--bench")
{
    var invariant = System.Globalization.CultureInfo.InvariantCulture;
    Bench.Run(mpi, int.Parse(args[1], invariant), int.Parse(args[2], invariant), int.Parse(args[3], invariant));
    return 0;
}

Say($"{mpi.LibraryVersion.Split('\n')[0]}; {size} rank(s)");
int passed = 0, failed = 0;
double worst64 = 0;
void Record(string name, bool ok, string detail)
{
    if (ok)
    {
        passed++;
    }
    else
    {
        failed++;
    }

    Say($"  {(ok ? "PASS" : "FAIL")} {name}: {detail}");
}

void Equal(Batch batch, int pattern, bool float64)
{
    string name = $"{batch.Name} {(float64 ? "f64" : "f32")}";
    try
    {
        Differences e = float64 ? Equality.Run<double>(mpi, batch, pattern) : Equality.Run<float>(mpi, batch, pattern);
        if (float64)
        {
            worst64 = Math.Max(worst64, Math.Max(e.Loss, Math.Max(e.PerSampleLoss, e.Gradients)));
        }

        // float64: 1e-12 relative (normwise); float32: the golden tolerances.
        bool ok = float64 ? e.Within(1e-12, 1e-12) : e.Within(1e-5, 1e-4);
        Record(name, ok, $"loss {e.Loss:E1}, per-sample {e.PerSampleLoss:E1}, gradients {e.Gradients:E1}, masks {(e.MasksEqual ? "equal" : "DIFFER")}");
    }
    catch (Exception ex)
    {
        Record(name, false, ex.GetType().Name + ": " + ex.Message);
    }
}

// The golden cases, both gradient modes, both precisions, with a slice pattern that varies per case.
int pattern = 0;
foreach (Batch batch in Batch.Golden(Path.Combine(AppContext.BaseDirectory, "golden")))
{
    Equal(batch, pattern, float64: true);
    Equal(batch, pattern, float64: false);
    pattern++;
}

// Random batches with unequal slices: every reduction, every kind of reference set, 64-bit labels.
int seed = 100;
foreach (Reduction reduction in Enum.GetValues<Reduction>())
{
    foreach (RefsKind refs in Enum.GetValues<RefsKind>())
    {
        GradientMode mode = seed % 2 == 0 ? GradientMode.Keras : GradientMode.Paper;
        Batch batch = Batch.Random(seed, n: 45, d: 8, reduction, refs, m: 23, mode);
        Equal(batch, seed, float64: true);
        Equal(batch, seed, float64: false);
        seed++;
    }
}

// Bad input on one rank: every rank throws the same exception, and the next call still works.
foreach (Failures.Case test in Failures.All().Where(t => size > 1 || !t.NeedsTwoRanks))
{
    string? problem = Failures.Check(mpi, test);
    Record("failure: " + test.Name, problem is null, problem ?? "every rank threw the agreed exception");
}

Equal(Batch.Random(7, n: 30, d: 5, Reduction.SumOverBatchSize, RefsKind.Self, 0, GradientMode.Keras), 1, float64: true);

// Every rank's verdict must agree (they computed the same comparisons).
double[] verdict = [failed];
mpi.AllReduceSum<double>(verdict);
Say($"largest float64 difference from one process: {worst64:E2} (normwise relative)");
Say($"mpi-tests {size} ranks: {passed} passed, {failed} failed");
return verdict[0] == 0 ? 0 : 1;
