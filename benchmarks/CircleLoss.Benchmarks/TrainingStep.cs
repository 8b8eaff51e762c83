using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using CircleLoss.Interop.TorchSharp;
using CircleLoss.TorchReference;
using TorchSharp;
using static TorchSharp.torch;

namespace CircleLoss.Benchmarks;

/// <summary>
/// A whole TorchSharp training step — model forward, L2 normalisation, the loss, backward, an Adam step — with
/// CircleLoss.Interop.TorchSharp and with the hand-written TorchSharp loss (tests/Shared/TorchKerasCircle.cs), in
/// interleaved rounds in one process. The model is an MLP D → 2D ReLU → D over random float32 inputs, one copy per
/// loss from the same initial weights, 64 classes.
/// </summary>
internal sealed class TrainingStep : IDisposable
{
    private readonly Tensor _inputs;
    private readonly Tensor _labels;
    private readonly nn.Module<Tensor, Tensor> _adapterModel;
    private readonly nn.Module<Tensor, Tensor> _torchModel;
    private readonly optim.Optimizer _adapterOptimizer;
    private readonly optim.Optimizer _torchOptimizer;
    private readonly CircleLossModule _criterion = new(num_threads: Workload.Threads);

    public TrainingStep(int n, int d)
    {
        N = n;
        D = d;
        manual_seed(1);
        _inputs = randn(n, d);
        _labels = arange(n, dtype: ScalarType.Int64).remainder(64);
        _adapterModel = Model(d);
        manual_seed(2);
        _torchModel = Model(d);
        _torchModel.load_state_dict(_adapterModel.state_dict());
        _adapterOptimizer = optim.Adam(_adapterModel.parameters(), lr: 1e-3);
        _torchOptimizer = optim.Adam(_torchModel.parameters(), lr: 1e-3);
    }

    public int N { get; }

    public int D { get; }

    /// <summary>One step with the adapter; returns its seconds.</summary>
    public double Adapter() => Step(_adapterModel, _adapterOptimizer, e => _criterion.call(_labels, e));

    /// <summary>One step with the hand-written loss; returns its seconds.</summary>
    public double Torch() => Step(_torchModel, _torchOptimizer,
        e => TorchKerasCircle.Reduce(TorchKerasCircle.PerSample(e, _labels, null, null, 80, 0.4, true)));

    /// <summary>Runs both steps at both sizes, interleaved, and returns the markdown table of the medians.</summary>
    public static string Run(bool quick)
    {
        var md = new StringBuilder();
        md.AppendLine("| N, D | adapter step (median ms) | hand-written TorchSharp step (median ms) | TorchSharp / adapter (median of per-round ratios) | rounds | CPU used by other processes |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach ((int n, int d, int rounds) in new[] { (1024, 128, quick ? 5 : 41), (4096, 256, quick ? 3 : 15) })
        {
            using var step = new TrainingStep(n, d);
            Interleaved.Result r = Interleaved.Run($"training-step-{n}x{d}", "adapter", step.Adapter, "TorchSharp", step.Torch, rounds);
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n}, {d} | {r.AMedian * 1e3:F2} | {r.BMedian * 1e3:F2} | **{r.MedianRatio:F2}×** | {rounds} | {r.OthersShare * 100:F0} % |"));
        }

        return md.ToString();
    }

    public void Dispose()
    {
        _criterion.Dispose();
        _adapterOptimizer.Dispose();
        _torchOptimizer.Dispose();
        _adapterModel.Dispose();
        _torchModel.Dispose();
        _inputs.Dispose();
        _labels.Dispose();
    }

    private static nn.Module<Tensor, Tensor> Model(int d) =>
        nn.Sequential(("hidden", nn.Linear(d, 2 * d)), ("relu", nn.ReLU()), ("embedding", nn.Linear(2 * d, d)));

    private double Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Func<Tensor, Tensor> loss)
    {
        using DisposeScope scope = NewDisposeScope();
        long start = Stopwatch.GetTimestamp();
        Tensor embeddings = nn.functional.normalize(model.call(_inputs), dim: 1);
        Tensor value = loss(embeddings);
        optimizer.zero_grad();
        value.backward();
        optimizer.step();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
