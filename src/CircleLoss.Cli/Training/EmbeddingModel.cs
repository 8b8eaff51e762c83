using System;

namespace CircleLoss.Cli.Training;

/// <summary>
/// The demo's embedding model: a two-layer perceptron followed by L2 normalisation,
/// <c>z = normalize(W2ᵀ · relu(W1ᵀ · x + b1) + b2)</c>, with its own backward pass. All parameters live in
/// one array (<see cref="Parameters"/>: W1 (in×hidden), b1 (hidden), W2 (hidden×out), b2 (out)) so that an
/// optimiser updates them in one sweep.
/// </summary>
internal sealed class EmbeddingModel
{
    /// <summary>Rows whose pre-normalisation norm is below this are scaled by 1/this instead (no division by 0).</summary>
    public const double MinNorm = 1e-12;

    public EmbeddingModel(int inputDim, int hiddenDim, int outputDim, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDim, 1);
        ArgumentNullException.ThrowIfNull(random);
        InputDim = inputDim;
        HiddenDim = hiddenDim;
        OutputDim = outputDim;
        Parameters = new double[checked(inputDim * hiddenDim + hiddenDim + hiddenDim * outputDim + outputDim)];

        // He initialisation for the ReLU layer, Glorot-like for the projection; biases start at 0.
        double scale1 = Math.Sqrt(2.0 / inputDim);
        Span<double> w1 = W1;
        for (int i = 0; i < w1.Length; i++)
        {
            w1[i] = scale1 * Gaussian(random);
        }

        double scale2 = Math.Sqrt(1.0 / hiddenDim);
        Span<double> w2 = W2;
        for (int i = 0; i < w2.Length; i++)
        {
            w2[i] = scale2 * Gaussian(random);
        }
    }

    public int InputDim { get; }

    public int HiddenDim { get; }

    public int OutputDim { get; }

    /// <summary>W1, b1, W2, b2, one after the other.</summary>
    public double[] Parameters { get; }

    public int ParameterCount => Parameters.Length;

    public Span<double> W1 => Parameters.AsSpan(0, InputDim * HiddenDim);

    public Span<double> B1 => Parameters.AsSpan(InputDim * HiddenDim, HiddenDim);

    public Span<double> W2 => Parameters.AsSpan(InputDim * HiddenDim + HiddenDim, HiddenDim * OutputDim);

    public Span<double> B2 => Parameters.AsSpan(InputDim * HiddenDim + HiddenDim + HiddenDim * OutputDim, OutputDim);

    /// <summary>Embeds <paramref name="rows"/> inputs (rows×<see cref="InputDim"/>) into <paramref name="output"/>
    /// (rows×<see cref="OutputDim"/>, unit rows). With a <paramref name="cache"/>, keeps what
    /// <see cref="Backward"/> needs.</summary>
    public void Forward(ReadOnlySpan<double> input, int rows, Span<double> output, ForwardCache? cache = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (input.Length != rows * InputDim)
        {
            throw new ArgumentException($"input must hold {rows}×{InputDim} values, not {input.Length}.", nameof(input));
        }

        if (output.Length != rows * OutputDim)
        {
            throw new ArgumentException($"output must hold {rows}×{OutputDim} values, not {output.Length}.", nameof(output));
        }

        cache ??= new ForwardCache();
        cache.Resize(rows, InputDim, HiddenDim, OutputDim);
        input.CopyTo(cache.Input);

        Dense.MatMul(input, W1, cache.PreActivation, rows, InputDim, HiddenDim, B1);
        for (int i = 0; i < cache.PreActivation.Length; i++)
        {
            cache.Activation[i] = Math.Max(cache.PreActivation[i], 0.0);
        }

        Dense.MatMul(cache.Activation, W2, cache.Projection, rows, HiddenDim, OutputDim, B2);
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> h = cache.Projection.AsSpan(i * OutputDim, OutputDim);
            double norm = Math.Max(Math.Sqrt(Dense.Dot(h, h)), MinNorm);
            cache.Norms[i] = norm;
            Span<double> z = output.Slice(i * OutputDim, OutputDim);
            for (int j = 0; j < OutputDim; j++)
            {
                z[j] = h[j] / norm;
            }
        }

        output.CopyTo(cache.Output);
    }

    /// <summary>The gradient of a scalar with respect to <see cref="Parameters"/>, given its gradient with respect
    /// to the outputs of the <see cref="Forward"/> call that filled <paramref name="cache"/>. Overwrites
    /// <paramref name="gradParameters"/>.</summary>
    public void Backward(ForwardCache cache, ReadOnlySpan<double> gradOutput, Span<double> gradParameters)
    {
        ArgumentNullException.ThrowIfNull(cache);
        int rows = cache.Rows;
        if (gradOutput.Length != rows * OutputDim)
        {
            throw new ArgumentException($"gradOutput must hold {rows}×{OutputDim} values, not {gradOutput.Length}.", nameof(gradOutput));
        }

        if (gradParameters.Length != ParameterCount)
        {
            throw new ArgumentException($"gradParameters must hold {ParameterCount} values, not {gradParameters.Length}.", nameof(gradParameters));
        }

        // Through the normalisation z = h/|h|: dh = (dz - z·(z·dz)) / |h| (the norm clamp is treated as constant).
        double[] gradProjection = cache.GradProjection;
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> z = cache.Output.AsSpan(i * OutputDim, OutputDim);
            ReadOnlySpan<double> dz = gradOutput.Slice(i * OutputDim, OutputDim);
            double zdz = cache.Norms[i] > MinNorm ? Dense.Dot(z, dz) : 0.0;
            double inverse = 1.0 / cache.Norms[i];
            Span<double> dh = gradProjection.AsSpan(i * OutputDim, OutputDim);
            for (int j = 0; j < OutputDim; j++)
            {
                dh[j] = (dz[j] - z[j] * zdz) * inverse;
            }
        }

        int w1 = InputDim * HiddenDim;
        int b1 = w1 + HiddenDim;
        int w2 = b1 + HiddenDim * OutputDim;
        Span<double> gradW1 = gradParameters[..w1];
        Span<double> gradB1 = gradParameters[w1..b1];
        Span<double> gradW2 = gradParameters[b1..w2];
        Span<double> gradB2 = gradParameters[w2..];

        // Second layer: h = a·W2 + b2.
        Dense.MatMulTransposeA(cache.Activation, gradProjection, gradW2, rows, HiddenDim, OutputDim);
        Dense.ColumnSums(gradProjection, gradB2, rows, OutputDim);
        double[] gradActivation = cache.GradActivation;
        Dense.MatMulTransposeB(gradProjection, W2, gradActivation, rows, OutputDim, HiddenDim);

        // ReLU, then the first layer: pre = x·W1 + b1.
        for (int i = 0; i < gradActivation.Length; i++)
        {
            if (cache.PreActivation[i] <= 0)
            {
                gradActivation[i] = 0;
            }
        }

        Dense.MatMulTransposeA(cache.Input, gradActivation, gradW1, rows, InputDim, HiddenDim);
        Dense.ColumnSums(gradActivation, gradB1, rows, HiddenDim);
    }

    /// <summary>Embeds a whole table in one call (no cache kept).</summary>
    public double[] Embed(ReadOnlySpan<double> input, int rows)
    {
        var output = new double[rows * OutputDim];
        Forward(input, rows, output);
        return output;
    }

    /// <summary>A standard normal sample (Box–Muller), from <paramref name="random"/> only.</summary>
    internal static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>What <see cref="EmbeddingModel.Forward"/> keeps for <see cref="EmbeddingModel.Backward"/>; reused
/// between batches (its arrays grow as needed).</summary>
internal sealed class ForwardCache
{
    public int Rows { get; private set; }

    public double[] Input { get; private set; } = [];

    public double[] PreActivation { get; private set; } = [];

    public double[] Activation { get; private set; } = [];

    public double[] Projection { get; private set; } = [];

    public double[] Norms { get; private set; } = [];

    public double[] Output { get; private set; } = [];

    public double[] GradProjection { get; private set; } = [];

    public double[] GradActivation { get; private set; } = [];

    internal void Resize(int rows, int input, int hidden, int output)
    {
        if (Rows == rows && Input.Length == rows * input && PreActivation.Length == rows * hidden && Output.Length == rows * output)
        {
            return;
        }

        Rows = rows;
        Input = new double[rows * input];
        PreActivation = new double[rows * hidden];
        Activation = new double[rows * hidden];
        Projection = new double[rows * output];
        Norms = new double[rows];
        Output = new double[rows * output];
        GradProjection = new double[rows * output];
        GradActivation = new double[rows * hidden];
    }
}
