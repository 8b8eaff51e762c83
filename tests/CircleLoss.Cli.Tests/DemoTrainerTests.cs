using System;
using System.Collections.Generic;
using System.Linq;
using CircleLoss.Cli.Data;
using CircleLoss.Cli.Training;
using CircleLoss.Interop;
using Xunit;

namespace CircleLoss.Cli.Tests;

public class DemoTrainerTests
{
    private static readonly Dataset Digits = DatasetLoader.LoadDigits();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_few_epochs_lower_the_loss_and_raise_held_out_retrieval(int seed)
    {
        var reports = new List<EpochReport>();
        DemoResult result = DemoTrainer.Run(Digits, new DemoSettings { Epochs = 5, Seed = seed, Backend = Backend.Cpu }, reports.Add);

        Assert.Equal(5, result.LossPerEpoch.Length);
        Assert.Equal(Enumerable.Range(1, 5), reports.Select(r => r.Epoch));
        Assert.True(result.LossPerEpoch[^1] < 0.5 * result.LossPerEpoch[0],
            $"loss {string.Join(", ", result.LossPerEpoch)}");
        Assert.True(result.After.RecallAt1 > result.Before.RecallAt1, $"Recall@1 {result.Before.RecallAt1} -> {result.After.RecallAt1}");
        Assert.True(result.After.MeanAveragePrecision > result.Before.MeanAveragePrecision + 0.1,
            $"mAP {result.Before.MeanAveragePrecision} -> {result.After.MeanAveragePrecision}");
        Assert.Equal(result.HeldOutPerEpoch[^1], result.After);
        Assert.Equal(result.TestCount * result.Settings.EmbeddingDim, result.TestEmbeddingsAfter.Length);
        Assert.Equal(Backend.Cpu, result.Backend);
    }

    [Fact]
    public void Same_seed_same_numbers_other_seed_other_numbers()
    {
        var settings = new DemoSettings { Epochs = 2, Seed = 9, Backend = Backend.Cpu };

        DemoResult a = DemoTrainer.Run(Digits, settings);
        DemoResult b = DemoTrainer.Run(Digits, settings);
        DemoResult c = DemoTrainer.Run(Digits, settings with { Seed = 10 });

        Assert.Equal(a.LossPerEpoch, b.LossPerEpoch);
        Assert.Equal(a.HeldOutPerEpoch, b.HeldOutPerEpoch);
        Assert.Equal(a.TestEmbeddingsAfter, b.TestEmbeddingsAfter);
        Assert.NotEqual(a.LossPerEpoch, c.LossPerEpoch);
    }

    [Fact]
    public void Image_split_holds_out_30_percent_of_every_class()
    {
        var settings = new DemoSettings();
        (Dataset train, Dataset test, string description) = DemoTrainer.Split(Digits, settings, new Random(1));

        Assert.Equal(Digits.Count, train.Count + test.Count);
        foreach (int label in Digits.Classes())
        {
            int all = Digits.Labels.Count(l => l == label);
            int held = test.Labels.Count(l => l == label);
            Assert.Equal((int)Math.Round(0.3 * all, MidpointRounding.AwayFromZero), held);
        }

        // No image is in both parts: the rows of the two parts together are the rows of the data.
        var rows = train.Features.Chunk(64).Concat(test.Features.Chunk(64)).Select(r => string.Join(",", r)).Order().ToArray();
        var original = Digits.Features.Chunk(64).Select(r => string.Join(",", r)).Order().ToArray();
        Assert.Equal(original, rows);
        Assert.Contains("held-out", description, StringComparison.Ordinal);
    }

    [Fact]
    public void Class_split_defaults_to_the_top_30_percent_of_labels()
    {
        (int[] train, int[] test) = DemoTrainer.SplitClasses(Digits, null);

        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6 }, train);
        Assert.Equal(new[] { 7, 8, 9 }, test);
    }

    [Fact]
    public void Class_split_trains_only_on_the_other_classes()
    {
        DemoResult result = DemoTrainer.Run(Digits, new DemoSettings { Epochs = 1, Split = HoldOut.Classes, TestClasses = [2, 5], Backend = Backend.Cpu });

        Assert.Equal(new[] { 0, 1, 3, 4, 6, 7, 8, 9 }, result.TrainClasses);
        Assert.Equal(new[] { 2, 5 }, result.TestClasses);
        Assert.Equal(Digits.Labels.Count(l => l is 2 or 5), result.TestCount);
        Assert.All(result.TestLabels, l => Assert.Contains(l, new[] { 2, 5 }));
    }

    [Theory]
    [InlineData(new[] { 42 }, "lists 42, not among the labels")]
    [InlineData(new[] { 3 }, "at least 2")]
    [InlineData(new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8 }, "at least 2")]
    public void Impossible_class_splits_name_the_setting(int[] testClasses, string message)
    {
        DemoSettingException e = Assert.Throws<DemoSettingException>(() => DemoTrainer.SplitClasses(Digits, testClasses));

        Assert.Equal(nameof(DemoSettings.TestClasses), e.Setting);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Standardize_uses_training_statistics()
    {
        var train = new Dataset("train", [1, 5, 3, 5, 5, 5], 2, [0, 1, 0]);
        var test = new Dataset("test", [3, 7], 2, [1]);

        DemoTrainer.Standardize(train, test);

        // Column 0: mean 3, std sqrt(8/3); column 1 is constant (only centred).
        double std = Math.Sqrt(8.0 / 3);
        double[] expected = [-2 / std, 0, 0, 0, 2 / std, 0];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], train.Features[i], 12);
        }

        Assert.Equal(new[] { 0.0, 2.0 }, test.Features);
    }

    [Theory]
    [InlineData(0, 128, 0.002, nameof(DemoSettings.Epochs))]
    [InlineData(3, 1, 0.002, nameof(DemoSettings.BatchSize))]
    [InlineData(3, 128, -1.0, nameof(DemoSettings.LearningRate))]
    public void Out_of_range_settings_name_the_setting(int epochs, int batch, double rate, string setting)
    {
        var settings = new DemoSettings { Epochs = epochs, BatchSize = batch, LearningRate = rate };

        DemoSettingException e = Assert.Throws<DemoSettingException>(() => DemoTrainer.Run(Digits, settings));

        Assert.Equal(setting, e.Setting);
    }

    // The trainer repeats none of the library's rules: the library refuses the loss's options, and says which.
    [Theory]
    [InlineData(0.0, 0.4, "options->gamma")]
    [InlineData(double.PositiveInfinity, 0.4, "options->gamma")]
    [InlineData(80.0, double.NaN, "options->margin")]
    public void Options_of_the_loss_are_refused_by_the_library(double gamma, double margin, string nativeArgument)
    {
        var settings = new DemoSettings { Epochs = 1, Gamma = gamma, Margin = margin, Backend = Backend.Cpu };

        CircleLossArgumentException e = Assert.Throws<CircleLossArgumentException>(() => DemoTrainer.Run(Digits, settings));

        Assert.Equal(nativeArgument, e.NativeArgument);
    }
}
