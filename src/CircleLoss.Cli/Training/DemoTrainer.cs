using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using CircleLoss.Cli.Data;
using CircleLoss.Cli.Evaluation;
using CircleLoss.Interop;
using CircleLoss.Interop.Distributed;

namespace CircleLoss.Cli.Training;

/// <summary>The settings of one demo run (the options of <c>circleloss demo</c>).</summary>
internal sealed record DemoSettings
{
    public int Epochs { get; init; } = 30;

    public int BatchSize { get; init; } = 128;

    public double Gamma { get; init; } = 80.0;

    public double Margin { get; init; } = 0.4;

    public GradientMode GradientMode { get; init; } = GradientMode.Keras;

    public Backend Backend { get; init; } = Backend.Auto;

    /// <summary>The library's CPU threads; 1 by default, which makes a run reproducible bit for bit.</summary>
    public int Threads { get; init; } = 1;

    public int Seed { get; init; } = 1;

    public int HiddenDim { get; init; } = 128;

    public int EmbeddingDim { get; init; } = 32;

    public double LearningRate { get; init; } = 0.002;

    /// <summary>What is held out of training for the retrieval evaluation.</summary>
    public HoldOut Split { get; init; } = HoldOut.Images;

    /// <summary>With <see cref="HoldOut.Images"/>: the fraction of each class's rows held out.</summary>
    public double TestFraction { get; init; } = 0.3;

    /// <summary>With <see cref="HoldOut.Classes"/>: the classes held out; null for the default (the highest 30 %
    /// of the sorted labels, at least 2).</summary>
    public IReadOnlyList<int>? TestClasses { get; init; }

    /// <summary>Throws <see cref="DemoSettingException"/> when a setting of the demo itself is out of range (the loss's
    /// options, gamma, margin and threads, are the library's to check when the loss is created).</summary>
    public void Validate()
    {
        if (Epochs < 1)
        {
            throw new DemoSettingException(nameof(Epochs), $"must be at least 1 (got {Epochs}).");
        }

        if (BatchSize < 2)
        {
            throw new DemoSettingException(nameof(BatchSize), $"must be at least 2 (got {BatchSize}): a batch needs pairs.");
        }

        if (HiddenDim < 1)
        {
            throw new DemoSettingException(nameof(HiddenDim), $"must be at least 1 (got {HiddenDim}).");
        }

        if (EmbeddingDim < 1)
        {
            throw new DemoSettingException(nameof(EmbeddingDim), $"must be at least 1 (got {EmbeddingDim}).");
        }

        if (!Enum.IsDefined(Split))
        {
            throw new DemoSettingException(nameof(Split), $"must be images or classes (got {Split}).");
        }

        if (!(TestFraction > 0 && TestFraction < 1))
        {
            throw new DemoSettingException(nameof(TestFraction), $"must be between 0 and 1, exclusive (got {TestFraction}).");
        }

        if (TestClasses is { Count: > 0 } && Split != HoldOut.Classes)
        {
            throw new DemoSettingException(nameof(TestClasses), "needs the classes split (Split = Classes).");
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
        {
            throw new DemoSettingException(nameof(LearningRate), $"must be a finite number > 0 (got {LearningRate}).");
        }
    }
}

/// <summary>What the demo holds out of training to measure retrieval on.</summary>
internal enum HoldOut
{
    /// <summary>A fraction of every class's rows: retrieval of unseen images of the classes trained on.</summary>
    Images = 0,

    /// <summary>Whole classes: retrieval among classes never seen in training (zero-shot transfer).</summary>
    Classes = 1,
}

/// <summary>What the trainer reports before the first epoch: the split and the loss's engine.</summary>
internal readonly record struct DemoStart(string SplitDescription, int TrainCount, int TestCount, Backend Backend, string BackendDescription, string? FallbackReason);

/// <summary>What the trainer reports after each epoch.</summary>
internal readonly record struct EpochReport(int Epoch, int Epochs, double Loss, RetrievalMetrics HeldOut, TimeSpan Elapsed);

/// <summary>Everything one demo run measured.</summary>
internal sealed class DemoResult
{
    public required DemoSettings Settings { get; init; }

    public required string DataName { get; init; }

    public required HoldOut Split { get; init; }

    /// <summary>One line saying what was trained on and what was held out.</summary>
    public required string SplitDescription { get; init; }

    public required int[] TrainClasses { get; init; }

    public required int[] TestClasses { get; init; }

    public required int TrainCount { get; init; }

    public required int TestCount { get; init; }

    public required int FeatureCount { get; init; }

    /// <summary>The backend the loss ran on, and the library's description of it.</summary>
    public required Backend Backend { get; init; }

    public required string BackendDescription { get; init; }

    public string? FallbackReason { get; init; }

    /// <summary>Held-out retrieval on the standardised input features themselves (no model).</summary>
    public required RetrievalMetrics RawFeatures { get; init; }

    /// <summary>Held-out retrieval with the untrained (randomly initialised) model.</summary>
    public required RetrievalMetrics Before { get; init; }

    /// <summary>Held-out retrieval after the last epoch.</summary>
    public required RetrievalMetrics After { get; init; }

    /// <summary>The mean training loss of each epoch (index 0 is epoch 1).</summary>
    public required double[] LossPerEpoch { get; init; }

    /// <summary>Held-out retrieval after each epoch (index 0 is epoch 1).</summary>
    public required RetrievalMetrics[] HeldOutPerEpoch { get; init; }

    public required int[] TestLabels { get; init; }

    /// <summary>The held-out embeddings (TestCount×EmbeddingDim) of the untrained model.</summary>
    public required double[] TestEmbeddingsBefore { get; init; }

    /// <summary>The held-out embeddings after training.</summary>
    public required double[] TestEmbeddingsAfter { get; init; }

    /// <summary>Wall time of the training loop (epochs and their evaluations).</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>Time spent inside the library (loss and gradients).</summary>
    public required TimeSpan LossTime { get; init; }

    public required long Steps { get; init; }
}

/// <summary>
/// Trains <see cref="EmbeddingModel"/> with Circle Loss (the native library's loss and gradients) on some
/// classes of a data set and measures retrieval on the classes held out.
/// </summary>
internal static class DemoTrainer
{
    /// <summary>Splits <paramref name="data"/> into the rows to train on and the rows to measure retrieval on,
    /// as <see cref="DemoSettings.Split"/> says, drawing from <paramref name="random"/>.</summary>
    /// <exception cref="DemoSettingException">The data or the requested held-out classes do not allow a split.</exception>
    public static (Dataset Train, Dataset Test, string Description) Split(Dataset data, DemoSettings settings, Random random)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(random);
        int[] classes = data.Classes();
        if (settings.Split == HoldOut.Classes)
        {
            (int[] trainClasses, int[] testClasses) = SplitClasses(data, settings.TestClasses);
            Dataset train = data.WhereClass(trainClasses.ToHashSet(), data.Name + " (training classes)");
            Dataset test = data.WhereClass(testClasses.ToHashSet(), data.Name + " (held-out classes)");
            return (train, test,
                $"trained on classes {Describe(trainClasses)} ({train.Count:N0} rows); retrieval on the held-out classes {Describe(testClasses)} ({test.Count:N0} rows, never seen in training)");
        }

        if (classes.Length < 2)
        {
            throw new DemoSettingException(null, $"{data.Name}: {classes.Length} class; the demo needs at least 2.");
        }

        // Stratified: round(fraction · count) rows of each class, drawn at random, are held out.
        var trainRows = new List<int>();
        var testRows = new List<int>();
        foreach (int label in classes)
        {
            int[] rows = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == label).ToArray();
            random.Shuffle(rows);
            int held = (int)Math.Round(settings.TestFraction * rows.Length, MidpointRounding.AwayFromZero);
            held = Math.Min(held, rows.Length - 1);
            testRows.AddRange(rows.Take(held));
            trainRows.AddRange(rows.Skip(held));
        }

        trainRows.Sort();
        testRows.Sort();
        Dataset trainSet = data.Select(trainRows, data.Name + " (training rows)");
        Dataset testSet = data.Select(testRows, data.Name + " (held-out rows)");
        int testClassesWithPairs = testSet.Labels.GroupBy(l => l).Count(g => g.Count() >= 2);
        if (testClassesWithPairs < 2)
        {
            throw new DemoSettingException(nameof(DemoSettings.TestFraction),
                $"of {settings.TestFraction:P0} leaves fewer than 2 classes of {data.Name} with 2 held-out rows: more rows per class or a larger fraction are needed.");
        }

        return (trainSet, testSet,
            $"trained on {trainSet.Count:N0} rows of classes {Describe(classes)}; retrieval on {testSet.Count:N0} held-out rows ({settings.TestFraction:P0} of each class, never seen in training)");
    }

    /// <summary>Splits the classes into training and held-out ones (<see cref="HoldOut.Classes"/>).</summary>
    /// <exception cref="DemoSettingException">The data or the requested held-out classes do not allow a split.</exception>
    public static (int[] Train, int[] Test) SplitClasses(Dataset data, IReadOnlyList<int>? testClasses)
    {
        ArgumentNullException.ThrowIfNull(data);
        int[] classes = data.Classes();
        if (classes.Length < 4)
        {
            throw new DemoSettingException(nameof(DemoSettings.Split), $"classes needs at least 4 classes (2 to train on, 2 held out); {data.Name} has {classes.Length}.");
        }

        int[] test;
        if (testClasses is null || testClasses.Count == 0)
        {
            int count = Math.Max(2, (int)Math.Round(0.3 * classes.Length, MidpointRounding.AwayFromZero));
            test = classes[^count..];
        }
        else
        {
            test = testClasses.Distinct().Order().ToArray();
            int[] unknown = test.Where(c => Array.BinarySearch(classes, c) < 0).ToArray();
            if (unknown.Length > 0)
            {
                throw new DemoSettingException(nameof(DemoSettings.TestClasses), $"lists {string.Join(",", unknown)}, not among the labels of {data.Name} ({Describe(classes)}).");
            }
        }

        int[] train = classes.Except(test).ToArray();
        if (test.Length < 2 || train.Length < 2)
        {
            throw new DemoSettingException(nameof(DemoSettings.TestClasses), $"must leave at least 2 classes to train on and hold out at least 2 (got {test.Length} held out of {classes.Length}).");
        }

        return (train, test);
    }

    /// <summary>Runs the demo. <paramref name="onStart"/> is called once before the first epoch, <paramref name="onEpoch"/>
    /// after each epoch (both on the calling thread). With <paramref name="ranks"/>, every rank runs this with the
    /// same settings (so the same model, split and batches) and computes its slice of every batch: the loss and its
    /// gradients are the whole batch's (<see cref="DistributedCircle"/>), the model's gradients are summed over the
    /// ranks, and every rank takes the same optimiser step.</summary>
    /// <exception cref="DemoSettingException">A setting is out of range, or the data do not allow a split.</exception>
    public static DemoResult Run(Dataset data, DemoSettings settings, Action<EpochReport>? onEpoch = null,
        Action<DemoStart>? onStart = null, CancellationToken cancellationToken = default, ICollectives? ranks = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var random = new Random(settings.Seed);
        (Dataset train, Dataset test, string splitDescription) = Split(data, settings, random);
        Standardize(train, test);

        int dim = settings.EmbeddingDim;
        var model = new EmbeddingModel(data.FeatureCount, settings.HiddenDim, dim, random);
        var optimizer = new AdamOptimizer(model.ParameterCount, settings.LearningRate);

        RetrievalMetrics raw = Retrieval.Evaluate(test.Features, test.FeatureCount, test.Labels);
        double[] embeddingsBefore = model.Embed(test.Features, test.Count);
        RetrievalMetrics before = Retrieval.Evaluate(embeddingsBefore, dim, test.Labels);

        var options = new CircleOptions
        {
            Gamma = settings.Gamma,
            Margin = settings.Margin,
            GradientMode = settings.GradientMode,
            Backend = settings.Backend,
            ThreadCount = settings.Threads,
        };
        var circle = new Circle(options); // the library checks the loss's options (front ends name them)
        using (circle)
        {
            onStart?.Invoke(new DemoStart(splitDescription, train.Count, test.Count, circle.Backend, circle.Description, circle.FallbackReason));
            var order = Enumerable.Range(0, train.Count).ToArray();
            int batchCapacity = Math.Min(settings.BatchSize, train.Count);
            var batchInput = new double[batchCapacity * train.FeatureCount];
            var batchLabels = new int[batchCapacity];
            var batchEmbeddings = new double[batchCapacity * dim];
            var gradEmbeddings = new double[batchCapacity * dim];
            var gradParameters = new double[model.ParameterCount];
            var cache = new ForwardCache();
            DistributedCircle? distributed = ranks is null ? null : new DistributedCircle(circle, ranks);
            var summedGradients = new double[model.ParameterCount];
            var lossPerEpoch = new double[settings.Epochs];
            var heldOutPerEpoch = new RetrievalMetrics[settings.Epochs];
            var lossClock = new Stopwatch();
            var clock = Stopwatch.StartNew();

            for (int epoch = 0; epoch < settings.Epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                random.Shuffle(order);
                double lossSum = 0;
                int lossRows = 0;
                for (int start = 0; start < train.Count; start += settings.BatchSize)
                {
                    int rows = Math.Min(settings.BatchSize, train.Count - start);
                    if (rows < 2)
                    {
                        continue; // a single leftover row has no pair
                    }

                    // Data-parallel: this rank's slice of the batch (all of it in one process).
                    (int first, int count) = ranks is null ? (0, rows) : Slice(rows, ranks.Rank, ranks.Size);
                    for (int k = 0; k < count; k++)
                    {
                        int index = order[start + first + k];
                        train.Row(index).CopyTo(batchInput.AsSpan(k * train.FeatureCount, train.FeatureCount));
                        batchLabels[k] = train.Labels[index];
                    }

                    Span<double> z = batchEmbeddings.AsSpan(0, count * dim);
                    Span<double> dz = gradEmbeddings.AsSpan(0, count * dim);
                    model.Forward(batchInput.AsSpan(0, count * train.FeatureCount), count, z, cache);
                    lossClock.Start();
                    double loss = distributed is null
                        ? circle.LossAndGradients(batchLabels.AsSpan(0, rows), z, dim, dz)
                        : BatchLossAndGradients(distributed, batchLabels.AsSpan(0, count), z, dim, dz);
                    lossClock.Stop();
                    model.Backward(cache, dz, gradParameters);
                    if (ranks is not null)
                    {
                        SumOverRanks(ranks, gradParameters, summedGradients);
                    }

                    optimizer.Step(model.Parameters, gradParameters);
                    lossSum += loss * rows;
                    lossRows += rows;
                }

                lossPerEpoch[epoch] = lossRows > 0 ? lossSum / lossRows : 0;
                double[] heldOut = model.Embed(test.Features, test.Count);
                heldOutPerEpoch[epoch] = Retrieval.Evaluate(heldOut, dim, test.Labels);
                onEpoch?.Invoke(new EpochReport(epoch + 1, settings.Epochs, lossPerEpoch[epoch], heldOutPerEpoch[epoch], clock.Elapsed));
            }

            clock.Stop();
            double[] embeddingsAfter = model.Embed(test.Features, test.Count);
            return new DemoResult
            {
                Settings = settings,
                DataName = data.Name,
                Split = settings.Split,
                SplitDescription = splitDescription,
                TrainClasses = train.Classes(),
                TestClasses = test.Classes(),
                TrainCount = train.Count,
                TestCount = test.Count,
                FeatureCount = data.FeatureCount,
                Backend = circle.Backend,
                BackendDescription = circle.Description,
                FallbackReason = circle.FallbackReason,
                RawFeatures = raw,
                Before = before,
                After = heldOutPerEpoch[^1],
                LossPerEpoch = lossPerEpoch,
                HeldOutPerEpoch = heldOutPerEpoch,
                TestLabels = test.Labels,
                TestEmbeddingsBefore = embeddingsBefore,
                TestEmbeddingsAfter = embeddingsAfter,
                TrainingTime = clock.Elapsed,
                LossTime = lossClock.Elapsed,
                Steps = optimizer.Steps,
            };
        }
    }

    /// <summary>Rows [first, first + count) of a batch of <paramref name="rows"/> for <paramref name="rank"/> of
    /// <paramref name="size"/>: contiguous, as equal as they come.</summary>
    internal static (int First, int Count) Slice(int rows, int rank, int size)
    {
        int first = (int)((long)rows * rank / size);
        return (first, (int)((long)rows * (rank + 1) / size) - first);
    }

    // The whole batch's loss, and its gradients with respect to this rank's rows.
    private static double BatchLossAndGradients(DistributedCircle distributed, ReadOnlySpan<int> labels, ReadOnlySpan<double> z, int dim,
        Span<double> dz)
    {
        Span<double> loss = stackalloc double[1];
        distributed.ForwardBackward(new CircleRequest<double>(labels, z, dim) { Loss = loss, GradEmbeddings = dz });
        return loss[0];
    }

    // The model's gradient of the batch's loss is the sum of the ranks' (each holds the gradient through its own
    // rows). Summed as reduce-scatter then all-gather, every element is added up once, by one rank: every rank gets
    // the same bits, so the models stay identical.
    private static void SumOverRanks(ICollectives ranks, double[] gradients, double[] scratch)
    {
        var counts = new int[ranks.Size];
        for (int r = 0; r < counts.Length; r++)
        {
            counts[r] = Slice(gradients.Length, r, ranks.Size).Count;
        }

        Span<double> mine = scratch.AsSpan(0, counts[ranks.Rank]);
        ranks.ReduceScatterSum<double>(gradients, mine, counts);
        ranks.AllGather<double>(mine, gradients, counts);
    }

    /// <summary>Scales every feature to mean 0 and standard deviation 1 with the statistics of the training
    /// rows (features constant there are only centred), in place in both tables.</summary>
    internal static void Standardize(Dataset train, Dataset test)
    {
        int d = train.FeatureCount;
        var mean = new double[d];
        var scale = new double[d];
        for (int i = 0; i < train.Count; i++)
        {
            ReadOnlySpan<double> row = train.Row(i);
            for (int j = 0; j < d; j++)
            {
                mean[j] += row[j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] /= train.Count;
        }

        for (int i = 0; i < train.Count; i++)
        {
            ReadOnlySpan<double> row = train.Row(i);
            for (int j = 0; j < d; j++)
            {
                double delta = row[j] - mean[j];
                scale[j] += delta * delta;
            }
        }

        for (int j = 0; j < d; j++)
        {
            double std = Math.Sqrt(scale[j] / train.Count);
            scale[j] = std > 1e-12 ? 1.0 / std : 1.0;
        }

        foreach (Dataset table in new[] { train, test })
        {
            double[] f = table.Features;
            for (int i = 0; i < table.Count; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    f[i * d + j] = (f[i * d + j] - mean[j]) * scale[j];
                }
            }
        }
    }

    internal static string Describe(int[] classes) =>
        classes.Length <= 12 ? string.Join(",", classes) : $"{string.Join(",", classes.Take(10))},… ({classes.Length} classes)";
}
