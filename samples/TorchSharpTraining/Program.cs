// Trains the digits demo's embedding model (64 → 128 ReLU → 32, L2-normalised) with TorchSharp and Adam, twice
// from the same initial weights: once with Circle Loss written by hand with TorchSharp ops (Keras's formula, as
// users write it today), once with CircleLoss.Interop.TorchSharp. Prints held-out Recall@1 before and after each,
// and the time per training step. Exits with 1 when the adapter's training does not improve Recall@1.
//
//   dotnet run -c Release -- [--epochs 30] [--batch-size 128] [--seed 1]
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using CircleLoss.Interop.TorchSharp;
using CircleLoss.TorchReference;
using TorchSharp;
using static TorchSharp.torch;

// Debian 12 / Ubuntu 22.04: TorchSharp 0.107's native library needs this before any TorchSharp call (see its README).
Console.WriteLine(LibTorchSharpCompatibility.Prepare());

int epochs = 30, batchSize = 128, seed = 1;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--batch-size": batchSize = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 2;
    }
}

torch.set_num_threads(Math.Min(Environment.ProcessorCount, 2));
(float[] features, long[] labels) = Digits.Load(Path.Combine(AppContext.BaseDirectory, "digits.csv.gz"));
(int[] train, int[] test) = Digits.Split(labels, heldOut: 0.3, seed);
using Tensor xTrain = Digits.Rows(features, train), yTrain = tensor(train.Select(i => labels[i]).ToArray());
using Tensor xTest = Digits.Rows(features, test), yTest = tensor(test.Select(i => labels[i]).ToArray());
Console.WriteLine($"digits: {train.Length} training rows, {test.Length} held-out rows; {epochs} epochs of batches of {batchSize}");

using var criterion = new CircleLossModule(gamma: 80, margin: 0.4);  // Keras's defaults
var results = new List<(string Loss, double Before, double After, double StepMs)>();
foreach (string loss in new[] { "hand-written TorchSharp", "CircleLoss.Interop.TorchSharp" })
{
    torch.manual_seed(seed);
    using var model = nn.Sequential(("hidden", nn.Linear(64, 128)), ("relu", nn.ReLU()), ("embedding", nn.Linear(128, 32)));
    using var optimizer = optim.Adam(model.parameters(), lr: 0.002);
    double before = Digits.RecallAt1(model, xTest, yTest);
    var random = new Random(seed);
    var steps = new List<double>();
    for (int epoch = 0; epoch < epochs; epoch++)
    {
        int[] order = train.Select((_, i) => i).OrderBy(_ => random.Next()).ToArray();
        for (int start = 0; start + 1 < order.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            using Tensor index = tensor(order.Skip(start).Take(batchSize).Select(i => (long)i).ToArray());
            Tensor x = xTrain.index_select(0, index), y = yTrain.index_select(0, index);
            long started = Stopwatch.GetTimestamp();
            Tensor embeddings = nn.functional.normalize(model.call(x), dim: 1);
            Tensor value = loss == "CircleLoss.Interop.TorchSharp"
                ? criterion.call(y, embeddings)                                   // the one line that changes
                : TorchKerasCircle.Reduce(TorchKerasCircle.PerSample(embeddings, y, null, null, 80, 0.4, true));
            optimizer.zero_grad();
            value.backward();
            optimizer.step();
            steps.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    results.Add((loss, before, Digits.RecallAt1(model, xTest, yTest), steps.Order().ElementAt(steps.Count / 2)));
}

Console.WriteLine();
Console.WriteLine("| loss | held-out Recall@1 before | after | median ms per training step |");
Console.WriteLine("|---|---|---|---|");
foreach (var r in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Loss} | {r.Before:F3} | {r.After:F3} | {r.StepMs:F3} |"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"a training step (forward, loss, backward, Adam; batches of {batchSize}) with the adapter takes 1/{results[0].StepMs / results[1].StepMs:F2} of the time it takes with the hand-written loss"));
return results[1].After > results[1].Before ? 0 : 1;

/// <summary>The bundled digits: 8×8 images (64 features scaled to [0, 1]) and their digit.</summary>
internal static class Digits
{
    public static (float[] Features, long[] Labels) Load(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var features = new List<float>();
        var labels = new List<long>();
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            string[] fields = line.Split(',');
            features.AddRange(fields[..64].Select(f => float.Parse(f, CultureInfo.InvariantCulture) / 16f));
            labels.Add(long.Parse(fields[64], CultureInfo.InvariantCulture));
        }

        return (features.ToArray(), labels.ToArray());
    }

    /// <summary>A stratified split: <paramref name="heldOut"/> of each digit's images, at random, are held out.</summary>
    public static (int[] Train, int[] Test) Split(long[] labels, double heldOut, int seed)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var digit in Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            int[] rows = digit.OrderBy(_ => random.Next()).ToArray();
            int held = (int)Math.Round(heldOut * rows.Length, MidpointRounding.AwayFromZero);
            test.AddRange(rows.Take(held));
            train.AddRange(rows.Skip(held));
        }

        return (train.Order().ToArray(), test.Order().ToArray());
    }

    public static Tensor Rows(float[] features, int[] rows) =>
        tensor(rows.SelectMany(i => features.Skip(i * 64).Take(64)).ToArray(), rows.Length, 64);

    /// <summary>The share of held-out images whose nearest other held-out image (cosine) shows the same digit.</summary>
    public static double RecallAt1(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor e = nn.functional.normalize(model.call(x), dim: 1);
        Tensor similarities = e.matmul(e.t()).masked_fill(eye(e.shape[0], dtype: ScalarType.Bool), double.NegativeInfinity);
        Tensor nearest = similarities.argmax(1);
        return y.index_select(0, nearest).eq(y).to_type(ScalarType.Float64).mean().item<double>();
    }
}
