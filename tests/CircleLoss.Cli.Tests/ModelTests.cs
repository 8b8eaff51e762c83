using System;
using System.Linq;
using CircleLoss.Cli.Training;
using CircleLoss.Interop;
using Xunit;

namespace CircleLoss.Cli.Tests;

public class ModelTests
{
    private static double[] RandomArray(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => EmbeddingModel.Gaussian(random)).ToArray();

    /// <summary>Σ c ⊙ model(x): a scalar whose gradient with respect to the outputs is c.</summary>
    private static double Objective(EmbeddingModel model, double[] x, int rows, double[] c)
    {
        var z = new double[rows * model.OutputDim];
        model.Forward(x, rows, z);
        return z.Zip(c, (a, b) => a * b).Sum();
    }

    [Fact]
    public void Outputs_are_unit_rows()
    {
        var random = new Random(3);
        var model = new EmbeddingModel(6, 9, 4, random);
        double[] x = RandomArray(random, 5 * 6);

        double[] z = model.Embed(x, 5);

        for (int i = 0; i < 5; i++)
        {
            double norm = Math.Sqrt(z.Skip(i * 4).Take(4).Sum(v => v * v));
            Assert.Equal(1.0, norm, 12);
        }
    }

    [Fact]
    public void Backward_matches_finite_differences_for_every_parameter()
    {
        var random = new Random(11);
        var model = new EmbeddingModel(5, 7, 3, random);
        // Non-zero biases, so that their gradients are exercised away from the initial point.
        for (int i = 0; i < model.B1.Length; i++)
        {
            model.B1[i] = 0.1 * EmbeddingModel.Gaussian(random);
        }

        for (int i = 0; i < model.B2.Length; i++)
        {
            model.B2[i] = 0.1 * EmbeddingModel.Gaussian(random);
        }

        const int rows = 4;
        double[] x = RandomArray(random, rows * 5);
        double[] c = RandomArray(random, rows * 3);
        var cache = new ForwardCache();
        var z = new double[rows * 3];
        model.Forward(x, rows, z, cache);
        var analytic = new double[model.ParameterCount];
        model.Backward(cache, c, analytic);

        const double h = 1e-6;
        double worst = 0;
        for (int p = 0; p < model.ParameterCount; p++)
        {
            double saved = model.Parameters[p];
            model.Parameters[p] = saved + h;
            double plus = Objective(model, x, rows, c);
            model.Parameters[p] = saved - h;
            double minus = Objective(model, x, rows, c);
            model.Parameters[p] = saved;
            double numeric = (plus - minus) / (2 * h);
            worst = Math.Max(worst, Math.Abs(numeric - analytic[p]) / Math.Max(1.0, Math.Abs(numeric)));
        }

        Assert.True(worst < 1e-6, $"largest relative difference {worst:E3}");
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-3); // not trivially zero
    }

    [Fact]
    public void Backward_through_the_native_circle_loss_matches_finite_differences()
    {
        // The whole training objective: the library's loss of the model's embeddings, differentiated by the
        // library (Keras mode, the exact derivative) and then by the model.
        var random = new Random(5);
        var model = new EmbeddingModel(4, 6, 3, random);
        const int rows = 8;
        double[] x = RandomArray(random, rows * 4);
        int[] labels = [0, 1, 2, 0, 1, 2, 0, 1];
        using var circle = new Circle(new CircleOptions { Gamma = 4, Margin = 0.25, Backend = Backend.Cpu, ThreadCount = 1 });

        double Loss()
        {
            var z = new double[rows * 3];
            model.Forward(x, rows, z);
            return circle.Loss(labels, z, 3);
        }

        var cache = new ForwardCache();
        var embeddings = new double[rows * 3];
        var gradEmbeddings = new double[rows * 3];
        model.Forward(x, rows, embeddings, cache);
        double loss = circle.LossAndGradients(labels, embeddings, 3, gradEmbeddings);
        var analytic = new double[model.ParameterCount];
        model.Backward(cache, gradEmbeddings, analytic);

        Assert.True(loss > 0);
        Assert.Equal(Loss(), loss, 12);
        const double h = 1e-6;
        double worst = 0;
        for (int p = 0; p < model.ParameterCount; p++)
        {
            double saved = model.Parameters[p];
            model.Parameters[p] = saved + h;
            double plus = Loss();
            model.Parameters[p] = saved - h;
            double minus = Loss();
            model.Parameters[p] = saved;
            double numeric = (plus - minus) / (2 * h);
            worst = Math.Max(worst, Math.Abs(numeric - analytic[p]) / Math.Max(1.0, Math.Abs(numeric)));
        }

        Assert.True(worst < 1e-5, $"largest relative difference {worst:E3}");
    }

    [Fact]
    public void Initialisation_depends_only_on_the_seed()
    {
        var a = new EmbeddingModel(8, 16, 4, new Random(42));
        var b = new EmbeddingModel(8, 16, 4, new Random(42));
        var c = new EmbeddingModel(8, 16, 4, new Random(43));

        Assert.Equal(a.Parameters, b.Parameters);
        Assert.NotEqual(a.Parameters, c.Parameters);
        Assert.All(a.B1.ToArray().Concat(a.B2.ToArray()), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_the_learning_rate_against_its_gradient()
    {
        var adam = new AdamOptimizer(3, learningRate: 0.01);
        double[] parameters = [1, 2, 3];

        adam.Step(parameters, [0.5, -4, 0]);

        // m̂ = g and v̂ = g² after one step: the update is lr · g / (|g| + ε).
        Assert.Equal(1 - 0.01 * 0.5 / (0.5 + 1e-8), parameters[0], 15);
        Assert.Equal(2 + 0.01 * 4 / (4 + 1e-8), parameters[1], 15);
        Assert.Equal(3, parameters[2]);
        Assert.Equal(1, adam.Steps);
    }

    [Fact]
    public void Adam_second_step_uses_bias_corrected_moments()
    {
        var adam = new AdamOptimizer(1, learningRate: 0.1, beta1: 0.5, beta2: 0.75, epsilon: 0);
        double[] parameters = [0];

        adam.Step(parameters, [1]);
        adam.Step(parameters, [3]);

        // Step 2: m = 0.5·0.5 + 0.5·3 = 1.75, m̂ = 1.75 / 0.75; v = 0.75·0.25 + 0.25·9 = 2.4375, v̂ = 2.4375 / 0.4375.
        double expected = -0.1 - 0.1 * (1.75 / 0.75) / Math.Sqrt(2.4375 / 0.4375);
        Assert.Equal(expected, parameters[0], 14);
    }

    [Fact]
    public void Dense_products_match_naive_loops()
    {
        var random = new Random(2);
        const int r = 5, k = 7, c = 9;
        double[] a = RandomArray(random, r * k);
        double[] b = RandomArray(random, k * c);
        double[] bias = RandomArray(random, c);
        var product = new double[r * c];

        Dense.MatMul(a, b, product, r, k, c, bias);

        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < c; j++)
            {
                double expected = bias[j];
                for (int p = 0; p < k; p++)
                {
                    expected += a[i * k + p] * b[p * c + j];
                }

                Assert.Equal(expected, product[i * c + j], 12);
            }
        }

        // Aᵀ·P (k×c) and P·Bᵀ (r×k) against the same loops.
        var ta = new double[k * c];
        Dense.MatMulTransposeA(a, product, ta, r, k, c);
        var tb = new double[r * k];
        Dense.MatMulTransposeB(product, b, tb, r, c, k);
        for (int p = 0; p < k; p++)
        {
            for (int j = 0; j < c; j++)
            {
                double expected = Enumerable.Range(0, r).Sum(i => a[i * k + p] * product[i * c + j]);
                Assert.Equal(expected, ta[p * c + j], 12);
            }
        }

        for (int i = 0; i < r; i++)
        {
            for (int p = 0; p < k; p++)
            {
                double expected = Enumerable.Range(0, c).Sum(j => product[i * c + j] * b[p * c + j]);
                Assert.Equal(expected, tb[i * k + p], 12);
            }
        }
    }
}
