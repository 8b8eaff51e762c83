using System;
using System.Collections.Generic;
using CircleLoss.Interop;

namespace CircleLoss.Benchmarks;

/// <summary>Before anything is timed: TorchSharp's transcription of the Keras formula and the library must agree
/// (loss and gradients) on small cases, and again on each benchmark problem; otherwise the run stops.</summary>
internal static class Verification
{
    public static readonly List<string> Lines = [];

    public static void SmallCases()
    {
        var keras = new CircleOptions();
        var sharp = new CircleOptions { Gamma = 256, Margin = 0.25 };
        Check(new Workload.Spec("v1", "self N=64, D=4, 8 classes, float64, gamma 80, margin 0.4", 64, 64, 4, 8, true, false), keras, 1e-9, 1e-8);
        Check(new Workload.Spec("v2", "self N=64, D=16, 8 classes, float64, gamma 256, margin 0.25", 64, 64, 16, 8, true, false), sharp, 1e-9, 1e-8);
        Check(new Workload.Spec("v3", "refs N=48, M=80, D=8, 6 classes, float64, gamma 256, margin 0.25", 48, 80, 8, 6, true, true), sharp, 1e-9, 1e-8);
        Check(new Workload.Spec("v4", "self N=64, D=16, 8 classes, float32, gamma 80, margin 0.4", 64, 64, 16, 8, false, false), keras, 1e-4, 2e-3);
        Check(new Workload.Spec("v5", "refs N=48, M=80, D=8, 6 classes, float32, gamma 80, margin 0.4", 48, 80, 8, 6, false, true), keras, 1e-4, 2e-3);
    }

    /// <summary>The benchmark problem itself (float32 at these sizes: looser bounds, still far below any formula error).</summary>
    public static void CheckLargeCase(Workload workload) =>
        Check(workload, workload.Case.Float64 ? 1e-9 : 1e-4, workload.Case.Float64 ? 1e-7 : 5e-3);

    private static void Check(Workload.Spec spec, CircleOptions options, double lossTolerance, double gradTolerance)
    {
        using var workload = new Workload(spec, options, torch: true, seed: 777);
        Check(workload, lossTolerance, gradTolerance);
    }

    private static void Check(Workload workload, double lossTolerance, double gradTolerance)
    {
        var (libraryLoss, torchLoss, gradX, gradR) = workload.Compare();
        double lossDiff = Math.Abs(libraryLoss - torchLoss) / Math.Max(Math.Abs(torchLoss), 1e-300);
        bool ok = lossDiff <= lossTolerance && gradX <= gradTolerance && gradR <= gradTolerance && double.IsFinite(libraryLoss);
        string line = $"{(ok ? "agree" : "DISAGREE")}: {workload.Case.Title}: loss library {libraryLoss:R} vs TorchSharp {torchLoss:R} " +
                      $"(rel. diff {lossDiff:E1}), max |dX diff|/max|dX| {gradX:E1}" + (workload.Case.References ? $", dR {gradR:E1}" : "") +
                      $" (bounds {lossTolerance:E0}, {gradTolerance:E0})";
        lock (Lines)
        {
            Lines.Add(line);
        }

        Console.WriteLine("[verify] " + line);
        if (!ok)
        {
            throw new InvalidOperationException("TorchSharp and the library disagree; nothing is timed. " + line);
        }
    }
}
