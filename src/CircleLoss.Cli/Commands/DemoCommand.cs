using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using CircleLoss.Cli.Data;
using CircleLoss.Cli.Evaluation;
using CircleLoss.Cli.Plotting;
using CircleLoss.Cli.Training;
using CircleLoss.Interop.Distributed;
using Spectre.Console;

namespace CircleLoss.Cli.Commands;

/// <summary><c>circleloss demo</c>: trains the embedding model with Circle Loss and shows retrieval improving.</summary>
internal static class DemoCommand
{
    public const string DefaultOutput = "circleloss-demo";

    public static Command Create(IAnsiConsole console)
    {
        var defaults = new DemoSettings();
        Option<string> backend = CommonOptions.Backend();
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training rows", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per step (the loss sees every pair of a batch)", DefaultValueFactory = _ => defaults.BatchSize };
        Option<double> gamma = CommonOptions.Gamma(defaults.Gamma);
        Option<double> margin = CommonOptions.Margin(defaults.Margin);
        Option<string> gradientMode = CommonOptions.GradientMode();
        Option<int> seed = CommonOptions.Seed();
        var output = new Option<string>("--output", "-o") { Description = "Folder for the PNG plots (created when missing)", DefaultValueFactory = _ => DefaultOutput, HelpName = "dir" };
        var data = new Option<string?>("--data")
        {
            Description = "Your own CSV instead of the bundled digits: one row per line, comma-separated numeric features, " +
                          "the last column an integer label; an optional header line; .gz files are read too",
            HelpName = "csv",
        };
        var split = new Option<string>("--split")
        {
            Description = "What is held out for the retrieval evaluation: images (a fraction of every class's rows) or " +
                          "classes (whole classes, never seen in training)",
            DefaultValueFactory = _ => "images",
            HelpName = "images|classes",
        }.AcceptOnlyFromAmong("images", "classes");
        var testFraction = new Option<double>("--test-fraction") { Description = "With --split images: the fraction of each class held out", DefaultValueFactory = _ => defaults.TestFraction };
        var testClasses = new Option<string?>("--test-classes") { Description = "With --split classes: the labels held out, e.g. 7,8,9 (default: the highest 30 % of the labels)", HelpName = "list" };
        var learningRate = new Option<double>("--learning-rate") { Description = "Adam's step size", DefaultValueFactory = _ => defaults.LearningRate };
        var hidden = new Option<int>("--hidden") { Description = "Width of the model's hidden layer", DefaultValueFactory = _ => defaults.HiddenDim };
        var embeddingDim = new Option<int>("--embedding-dim") { Description = "Dimension of the embedding", DefaultValueFactory = _ => defaults.EmbeddingDim };
        Option<int> threads = CommonOptions.Threads(defaults.Threads, "CPU threads of the loss (1: the same numbers on every run; 0: all hardware threads)");
        var noPlots = new Option<bool>("--no-plots") { Description = "Do not write the PNG plots" };

        var command = new Command("demo",
            "Train a small embedding model (two dense layers and L2 normalisation, written in C#) with Circle Loss on the " +
            "bundled UCI handwritten digits (1,797 8×8 images, CC BY 4.0), report retrieval (Recall@1, Recall@4, mAP) on " +
            "held-out data before and after training, and write plots.")
        {
            backend, epochs, batchSize, gamma, margin, gradientMode, seed, output, data, split, testFraction, testClasses,
            learningRate, hidden, embeddingDim, threads, noPlots,
        };

        command.SetAction(parse =>
        {
            var settings = new DemoSettings
            {
                Backend = CommonOptions.ParseBackend(parse.GetValue(backend)!),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                Gamma = parse.GetValue(gamma),
                Margin = parse.GetValue(margin),
                GradientMode = CommonOptions.ParseGradientMode(parse.GetValue(gradientMode)!),
                Seed = parse.GetValue(seed),
                Split = parse.GetValue(split) == "classes" ? HoldOut.Classes : HoldOut.Images,
                TestFraction = parse.GetValue(testFraction),
                TestClasses = ParseClassList(parse.GetValue(testClasses)),
                LearningRate = parse.GetValue(learningRate),
                HiddenDim = parse.GetValue(hidden),
                EmbeddingDim = parse.GetValue(embeddingDim),
                Threads = parse.GetValue(threads),
            };
            string? outputDir = parse.GetValue(noPlots) ? null : parse.GetValue(output);
            // Under Open MPI's mpirun every rank trains on its slice of each batch; rank 0 reports and plots.
            using OpenMpiCollectives? ranks = DataParallelRanks();
            bool reporting = ranks is null || ranks.Rank == 0;
            Run(reporting ? console : QuietConsole(), settings, parse.GetValue(data), reporting ? outputDir : null, ranks);
            return CliApp.SuccessExitCode;
        });
        return command;
    }

    /// <summary>"7,8,9" → [7, 8, 9]; null or empty → null.</summary>
    internal static int[]? ParseClassList(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var classes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int label))
            {
                throw new UsageException($"--test-classes: '{part}' is not an integer label (expected a comma-separated list such as 7,8,9).");
            }

            classes.Add(label);
        }

        return classes.ToArray();
    }

    /// <summary>Runs the demo and prints its report; returns the result (tests use it).</summary>
    /// <summary>The ranks of a data-parallel run: Open MPI's when mpirun started this process, else null.</summary>
    /// <exception cref="UsageException">Another MPI's launcher started it, or Open MPI cannot be used.</exception>
    private static OpenMpiCollectives? DataParallelRanks()
    {
        if (!OpenMpiCollectives.LaunchedByOpenMpi && !OpenMpiCollectives.LaunchedByAnotherMpi)
        {
            return null;
        }

        try
        {
            return OpenMpiCollectives.Initialize();
        }
        catch (PlatformNotSupportedException e)
        {
            throw new UsageException("data-parallel demo: " + e.Message, e);
        }
    }

    private static IAnsiConsole QuietConsole() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No });

    /// <summary>Runs the demo and prints its report, turning what the trainer and the library refuse into usage errors
    /// that name the command-line option.</summary>
    internal static DemoResult Run(IAnsiConsole console, DemoSettings settings, string? dataPath, string? outputDir,
        ICollectives? ranks = null)
    {
        try
        {
            return RunAndReport(console, settings, dataPath, outputDir, ranks);
        }
        catch (DemoSettingException e)
        {
            throw new UsageException(e.Setting is null ? e.Message : $"{OptionFor(e.Setting)} {e.Message}", e);
        }
        catch (Exception e) when (CommonOptions.UsageErrorFromLibrary(e, settings.Backend) is UsageException usage)
        {
            throw usage;
        }
    }

    /// <summary>The command-line option of a <see cref="DemoSettings"/> property.</summary>
    internal static string OptionFor(string setting) => setting switch
    {
        nameof(DemoSettings.Epochs) => "--epochs",
        nameof(DemoSettings.BatchSize) => "--batch-size",
        nameof(DemoSettings.HiddenDim) => "--hidden",
        nameof(DemoSettings.EmbeddingDim) => "--embedding-dim",
        nameof(DemoSettings.Split) => "--split",
        nameof(DemoSettings.TestFraction) => "--test-fraction",
        nameof(DemoSettings.TestClasses) => "--test-classes",
        nameof(DemoSettings.LearningRate) => "--learning-rate",
        _ => setting,
    };

    private static DemoResult RunAndReport(IAnsiConsole console, DemoSettings settings, string? dataPath, string? outputDir,
        ICollectives? ranks)
    {
        var wall = Stopwatch.StartNew();
        settings.Validate();
        bool digits = dataPath is null;
        Dataset dataset = digits ? DatasetLoader.LoadDigits() : DatasetLoader.LoadFile(dataPath!);
        string classPrefix = digits ? "digit" : "class";

        console.Write(new Rule("[bold]circleloss demo[/]: Circle Loss trains an embedding, retrieval gets better").LeftJustified());
        console.WriteLine(digits
            ? $"Data:   {DatasetLoader.DigitsAttribution}: {dataset.Count:N0} images of {dataset.FeatureCount} pixels, {dataset.Classes().Length} classes"
            : $"Data:   {dataset.Name}: {dataset.Count:N0} rows of {dataset.FeatureCount} features, {dataset.Classes().Length} classes");
        console.WriteLine($"Model:  {dataset.FeatureCount} → {settings.HiddenDim} (ReLU) → {settings.EmbeddingDim}, L2-normalised; Adam, learning rate {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}");
        console.WriteLine($"Loss:   Circle Loss γ = {settings.Gamma.ToString(CultureInfo.InvariantCulture)}, m = {settings.Margin.ToString(CultureInfo.InvariantCulture)}, " +
                          $"{settings.GradientMode.ToString().ToLowerInvariant()} gradients, batches of {settings.BatchSize}, {settings.Epochs} epochs, seed {settings.Seed}");

        void OnStart(DemoStart start)
        {
            console.WriteLine($"Split:  {start.SplitDescription}");
            console.WriteLine($"Engine: {start.BackendDescription}" + (start.FallbackReason is null ? string.Empty : $" (auto: {start.FallbackReason})"));
            if (ranks is not null)
            {
                console.WriteLine($"Ranks:  {ranks.Size} process(es) under mpirun, each computing its slice of every batch; the loss and its " +
                                  "gradients are the whole batch's (CircleLoss.Interop.Distributed), the model's gradients are summed");
            }
        }

        bool live = console.Profile.Capabilities is { Interactive: true, Ansi: true };
        DemoResult result = live ? RunWithProgressBar(console, dataset, settings, OnStart, ranks) : RunWithPlainLines(console, dataset, settings, OnStart, ranks);
        console.Write(ResultTable(result));

        IReadOnlyList<string> files = [];
        if (outputDir is not null)
        {
            if (!DemoPlots.EnsureFont())
            {
                console.WriteLine($"Note: the font {DemoPlots.FontName} is not installed (Debian: apt-get install fonts-dejavu-core); the plots use a fallback font.");
            }

            try
            {
                files = DemoPlots.Write(result, outputDir, classPrefix);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--output '{outputDir}': the plots cannot be written: {e.Message}", e);
            }
        }

        wall.Stop();
        double change = result.After.RecallAt1 - result.Before.RecallAt1;
        console.WriteLine($"Held-out Recall@1 {Fmt(result.Before.RecallAt1)} → {Fmt(result.After.RecallAt1)} ({(change >= 0 ? "+" : string.Empty)}{Fmt(change)}), " +
                          $"mAP {Fmt(result.Before.MeanAveragePrecision)} → {Fmt(result.After.MeanAveragePrecision)}; " +
                          $"training {result.TrainingTime.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s " +
                          $"({result.Steps} steps, {result.LossTime.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s in the loss), " +
                          $"total {wall.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
        foreach (string file in files)
        {
            console.WriteLine($"Wrote {Path.GetFullPath(file)}");
        }

        return result;
    }

    private static DemoResult RunWithProgressBar(IAnsiConsole console, Dataset dataset, DemoSettings settings, Action<DemoStart> onStart,
        ICollectives? ranks)
    {
        // The split and the engine are known once the session exists: printed then, above the live display.
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(Describe(0, settings.Epochs, null, null), maxValue: settings.Epochs);
                DemoResult result = DemoTrainer.Run(dataset, settings, report =>
                {
                    task.Description = Describe(report.Epoch, report.Epochs, report.Loss, report.HeldOut);
                    task.Value = report.Epoch;
                    context.Refresh();
                }, onStart, ranks: ranks);
                task.StopTask();
                return result;
            });
    }

    private static DemoResult RunWithPlainLines(IAnsiConsole console, Dataset dataset, DemoSettings settings, Action<DemoStart> onStart,
        ICollectives? ranks)
    {
        int every = Math.Max(1, (int)Math.Ceiling(settings.Epochs / 40.0));
        return DemoTrainer.Run(dataset, settings, report =>
        {
            if (report.Epoch % every == 0 || report.Epoch == report.Epochs || report.Epoch == 1)
            {
                console.WriteLine($"{Describe(report.Epoch, report.Epochs, report.Loss, report.HeldOut)}  " +
                                  $"{report.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
            }
        }, onStart, ranks: ranks);
    }

    private static string Describe(int epoch, int epochs, double? loss, RetrievalMetrics? heldOut)
    {
        string width = epochs.ToString(CultureInfo.InvariantCulture);
        string head = $"epoch {epoch.ToString(CultureInfo.InvariantCulture).PadLeft(width.Length)}/{width}";
        return loss is null || heldOut is null
            ? head
            : $"{head}  loss {loss.Value.ToString("F4", CultureInfo.InvariantCulture)}  held-out R@1 {Fmt(heldOut.Value.RecallAt1)}  mAP {Fmt(heldOut.Value.MeanAveragePrecision)}";
    }

    private static Table ResultTable(DemoResult result)
    {
        var table = new Table { Title = new TableTitle($"Retrieval on the held-out rows ({result.Before.Queries:N0} queries, cosine similarity)") };
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("input features").RightAligned());
        table.AddColumn(new TableColumn("untrained model").RightAligned());
        table.AddColumn(new TableColumn($"trained, {result.LossPerEpoch.Length} epochs").RightAligned());
        table.AddColumn(new TableColumn("change").RightAligned());
        AddRow(table, "Recall@1", result.RawFeatures.RecallAt1, result.Before.RecallAt1, result.After.RecallAt1);
        AddRow(table, "Recall@4", result.RawFeatures.RecallAt4, result.Before.RecallAt4, result.After.RecallAt4);
        AddRow(table, "mAP", result.RawFeatures.MeanAveragePrecision, result.Before.MeanAveragePrecision, result.After.MeanAveragePrecision);
        return table;
    }

    private static void AddRow(Table table, string name, double raw, double before, double after)
    {
        double change = after - before;
        string sign = change >= 0 ? "+" : string.Empty;
        string colour = change > 0 ? "green" : change < 0 ? "red" : "default";
        table.AddRow(name, Fmt(raw), Fmt(before), $"[bold]{Fmt(after)}[/]", $"[{colour}]{sign}{Fmt(change)}[/]");
    }

    private static string Fmt(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
