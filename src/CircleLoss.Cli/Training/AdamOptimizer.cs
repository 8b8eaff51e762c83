using System;

namespace CircleLoss.Cli.Training;

/// <summary>Adam (Kingma and Ba, 2015) with bias correction, over one flat parameter array.</summary>
internal sealed class AdamOptimizer
{
    private readonly double[] _firstMoment;
    private readonly double[] _secondMoment;
    private long _steps;

    public AdamOptimizer(int parameterCount, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite and > 0.");
        }

        _firstMoment = new double[parameterCount];
        _secondMoment = new double[parameterCount];
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    public double LearningRate { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    public long Steps => _steps;

    /// <summary>One update: parameters -= lr · m̂ / (√v̂ + ε).</summary>
    public void Step(Span<double> parameters, ReadOnlySpan<double> gradients)
    {
        if (parameters.Length != _firstMoment.Length || gradients.Length != _firstMoment.Length)
        {
            throw new ArgumentException($"parameters and gradients must hold {_firstMoment.Length} values.", nameof(gradients));
        }

        _steps++;
        double correction1 = 1.0 - Math.Pow(Beta1, _steps);
        double correction2 = 1.0 - Math.Pow(Beta2, _steps);
        for (int i = 0; i < parameters.Length; i++)
        {
            double g = gradients[i];
            _firstMoment[i] = Beta1 * _firstMoment[i] + (1 - Beta1) * g;
            _secondMoment[i] = Beta2 * _secondMoment[i] + (1 - Beta2) * g * g;
            double mHat = _firstMoment[i] / correction1;
            double vHat = _secondMoment[i] / correction2;
            parameters[i] -= LearningRate * mHat / (Math.Sqrt(vHat) + Epsilon);
        }
    }
}
