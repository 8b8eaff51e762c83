using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CircleLoss.Cli.Evaluation;
using CircleLoss.Cli.Training;
using ScottPlot;

namespace CircleLoss.Cli.Plotting;

/// <summary>The demo's pictures, written as PNG files with ScottPlot (headless, through SkiaSharp).</summary>
internal static class DemoPlots
{
    /// <summary>The font of every plot.</summary>
    public const string FontName = "DejaVu Sans";

    public const string TrainingFileName = "training.png";

    public const string EmbeddingsFileName = "embeddings.png";

    private static readonly string[] FontFolders =
    [
        "/usr/share/fonts/truetype/dejavu",
        "/usr/share/fonts/dejavu",
        "/usr/share/fonts/TTF",
        "/usr/local/share/fonts",
        "/Library/Fonts",
    ];

    private static readonly object FontLock = new();
    private static bool? _fontReady;

    /// <summary>Makes <see cref="FontName"/> usable by ScottPlot: found by the system's font manager, or loaded from
    /// its file in the usual folders. Returns false (the plots then use ScottPlot's default font) when absent.</summary>
    public static bool EnsureFont()
    {
        lock (FontLock)
        {
            if (_fontReady is bool ready)
            {
                return ready;
            }

            if (!IsInstalled(FontName))
            {
                foreach (string folder in FontFolders)
                {
                    string regular = Path.Combine(folder, "DejaVuSans.ttf");
                    if (File.Exists(regular))
                    {
                        Fonts.AddFontFile(FontName, regular, bold: false, italic: false);
                        string bold = Path.Combine(folder, "DejaVuSans-Bold.ttf");
                        if (File.Exists(bold))
                        {
                            Fonts.AddFontFile(FontName, bold, bold: true, italic: false);
                        }

                        break;
                    }
                }
            }

            _fontReady = IsInstalled(FontName);
            if (_fontReady.Value)
            {
                Fonts.Default = FontName;
            }

            return _fontReady.Value;
        }
    }

    /// <summary>Whether ScottPlot resolves <paramref name="family"/> to that family (not to a fallback).</summary>
    private static bool IsInstalled(string family)
    {
        // Not disposed: ScottPlot caches its typefaces.
        SkiaSharp.SKTypeface? typeface = Fonts.GetTypeface(family, bold: false, italic: false);
        return typeface is not null && string.Equals(typeface.FamilyName, family, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Writes <see cref="TrainingFileName"/> and <see cref="EmbeddingsFileName"/> into
    /// <paramref name="folder"/> (created when missing) and returns their paths.</summary>
    public static IReadOnlyList<string> Write(DemoResult result, string folder, string classPrefix)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folder);
        EnsureFont();
        string training = Path.Combine(folder, TrainingFileName);
        string embeddings = Path.Combine(folder, EmbeddingsFileName);
        WriteTraining(result, training);
        WriteEmbeddings(result, embeddings, classPrefix);
        return [training, embeddings];
    }

    /// <summary>The training loss (left axis) and the held-out Recall@1 and mAP (right axis) per epoch; epoch 0 is
    /// the untrained model.</summary>
    public static void WriteTraining(DemoResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new Plot();
        int epochs = result.LossPerEpoch.Length;
        double[] lossEpochs = Enumerable.Range(1, epochs).Select(e => (double)e).ToArray();
        double[] metricEpochs = Enumerable.Range(0, epochs + 1).Select(e => (double)e).ToArray();
        double[] recall = new[] { result.Before.RecallAt1 }.Concat(result.HeldOutPerEpoch.Select(m => m.RecallAt1)).ToArray();
        double[] map = new[] { result.Before.MeanAveragePrecision }.Concat(result.HeldOutPerEpoch.Select(m => m.MeanAveragePrecision)).ToArray();

        Color lossColor = new("#d62728");
        Color recallColor = new("#1f77b4");
        Color mapColor = new("#2ca02c");

        var loss = plot.Add.Scatter(lossEpochs, result.LossPerEpoch, lossColor);
        loss.LegendText = "training loss (left axis)";
        loss.LineWidth = 2;
        loss.MarkerSize = 5;

        var recallLine = plot.Add.Scatter(metricEpochs, recall, recallColor);
        recallLine.LegendText = "held-out Recall@1 (right axis)";
        recallLine.LineWidth = 2;
        recallLine.MarkerSize = 5;
        recallLine.Axes.YAxis = plot.Axes.Right;

        var mapLine = plot.Add.Scatter(metricEpochs, map, mapColor);
        mapLine.LegendText = "held-out mAP (right axis)";
        mapLine.LineWidth = 2;
        mapLine.MarkerSize = 5;
        mapLine.LinePattern = LinePattern.Dashed;
        mapLine.Axes.YAxis = plot.Axes.Right;

        plot.Title($"Circle loss training on {result.DataName}: loss and held-out retrieval per epoch");
        plot.XLabel("epoch (0 = untrained model)");
        plot.YLabel($"training loss (γ = {result.Settings.Gamma:G4}, m = {result.Settings.Margin:G4}, mean per epoch)");
        plot.Axes.Right.Label.Text = "held-out retrieval (Recall@1, mAP)";
        plot.Axes.Left.Label.ForeColor = lossColor;
        plot.Axes.Right.Label.ForeColor = recallColor;
        plot.Axes.SetLimitsX(-0.5, epochs + 0.5);
        double lowest = Math.Min(recall.Min(), map.Min());
        plot.Axes.SetLimitsY(Math.Max(0, Math.Floor(lowest * 10) / 10 - 0.05), 1.02, plot.Axes.Right);
        plot.Axes.SetLimitsY(0, result.LossPerEpoch.Max() * 1.08, plot.Axes.Left);
        plot.ShowLegend(Alignment.MiddleRight);
        if (EnsureFont())
        {
            plot.Font.Set(FontName);
        }

        plot.SavePng(path, 1100, 650);
    }

    /// <summary>The held-out embeddings in the plane of their first two principal components, coloured by class:
    /// the untrained model on the left, the trained one on the right.</summary>
    public static void WriteEmbeddings(DemoResult result, string path, string classPrefix)
    {
        ArgumentNullException.ThrowIfNull(result);
        int dim = result.Settings.EmbeddingDim;
        // A new Multiplot holds one plot: it is the left panel.
        var multiplot = new Multiplot();
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Plot before = multiplot.GetPlot(0);
        Plot after = multiplot.AddPlot();
        Fill(before, result.TestEmbeddingsBefore, dim, result.TestLabels, classPrefix,
            $"Untrained model: Recall@1 {result.Before.RecallAt1:F3}, mAP {result.Before.MeanAveragePrecision:F3}");
        Fill(after, result.TestEmbeddingsAfter, dim, result.TestLabels, classPrefix,
            $"After {result.LossPerEpoch.Length} epochs: Recall@1 {result.After.RecallAt1:F3}, mAP {result.After.MeanAveragePrecision:F3}");
        multiplot.SavePng(path, 1600, 700);
    }

    private static void Fill(Plot plot, double[] embeddings, int dim, int[] labels, string classPrefix, string title)
    {
        (double[] x, double[] y) = Pca.Project2D(embeddings, labels.Length, dim);
        int[] classes = labels.Distinct().Order().ToArray();
        IPalette palette = classes.Length <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        for (int c = 0; c < classes.Length; c++)
        {
            int label = classes[c];
            double[] xs = Enumerable.Range(0, labels.Length).Where(i => labels[i] == label).Select(i => x[i]).ToArray();
            double[] ys = Enumerable.Range(0, labels.Length).Where(i => labels[i] == label).Select(i => y[i]).ToArray();
            var points = plot.Add.ScatterPoints(xs, ys, palette.GetColor(c));
            points.MarkerSize = 6;
            points.LegendText = classes.Length <= 20 ? $"{classPrefix} {label}" : string.Empty;
        }

        plot.Title(title);
        plot.XLabel($"principal component 1 of the {labels.Length:N0} held-out embeddings");
        plot.YLabel("principal component 2");
        if (classes.Length <= 20)
        {
            plot.ShowLegend(Edge.Right); // beside the data, never over a cluster
        }

        if (EnsureFont())
        {
            plot.Font.Set(FontName);
        }
    }
}
