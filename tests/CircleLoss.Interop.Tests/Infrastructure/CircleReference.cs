using System;
using System.Linq;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>The inputs of a reference evaluation (float64, row-major).</summary>
internal sealed record ReferenceProblem(
    int[] Labels,
    double[] Embeddings,
    int Dimension,
    double Gamma = 80,
    double Margin = 0.4,
    bool RemoveDiagonal = true,
    Reduction Reduction = Reduction.SumOverBatchSize,
    GradientMode Mode = GradientMode.Keras,
    int[]? RefLabels = null,
    double[]? RefEmbeddings = null,
    double[]? SampleWeights = null,
    double[]? Upstream = null)
{
    public int N => Labels.Length;

    public int M => RefEmbeddings is not null ? RefEmbeddings.Length / Dimension : N;
}

internal sealed record ReferenceResult(double[] Loss, double[] PerSampleLoss, bool[] Mask, double[] GradEmbeddings, double[]? GradRefEmbeddings);

/// <summary>
/// A straightforward float64 implementation of the contract (docs/design.md section 1), written from the formulas
/// with plain O(N·M·D) loops and no shared code with the native library.
/// </summary>
internal static class CircleReference
{
    public static ReferenceResult Compute(ReferenceProblem p)
    {
        int n = p.N, d = p.Dimension;
        bool refsAreQueries = p.RefEmbeddings is null;
        double[] r = p.RefEmbeddings ?? p.Embeddings;
        int m = r.Length / d;
        int[] refLabels = p.RefLabels ?? p.Labels;
        if (refLabels.Length != m)
        {
            throw new ArgumentException("reference labels and embeddings disagree");
        }

        double γ = p.Gamma, margin = p.Margin;
        var s = new double[n, m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double dot = 0;
                for (int k = 0; k < d; k++)
                {
                    dot += p.Embeddings[i * d + k] * r[j * d + k];
                }

                s[i, j] = dot;
            }
        }

        bool Positive(int i, int j) => p.Labels[i] == refLabels[j] && !(p.RemoveDiagonal && i == j);
        bool Negative(int i, int j) => p.Labels[i] != refLabels[j];
        double Lp(double sim)
        {
            double dd = Math.Max(1 - sim, 0);
            return -γ * Math.Max(margin + dd, 0) * (margin - dd);
        }

        double Ln(double sim)
        {
            double dd = Math.Max(1 - sim, 0);
            return γ * Math.Max(1 + margin - dd, 0) * (1 - margin - dd);
        }

        var lpSum = new double[n];
        var lnSum = new double[n];
        var loss = new double[n];
        for (int i = 0; i < n; i++)
        {
            lpSum[i] = LogSumExp(Enumerable.Range(0, m).Where(j => Positive(i, j)).Select(j => Lp(s[i, j])).ToArray());
            lnSum[i] = LogSumExp(Enumerable.Range(0, m).Where(j => Negative(i, j)).Select(j => Ln(s[i, j])).ToArray());
            loss[i] = Softplus(lpSum[i] + lnSum[i]);
        }

        bool[] mask = loss.Select(l => l > 0).ToArray();
        double[] w = p.SampleWeights ?? Enumerable.Repeat(1.0, n).ToArray();

        // The reduction and the weight c_i of each row in it (times the upstream gradient).
        double[] reduced;
        var c = new double[n];
        switch (p.Reduction)
        {
            case Reduction.None:
                reduced = Enumerable.Range(0, n).Select(i => w[i] * loss[i]).ToArray();
                for (int i = 0; i < n; i++)
                {
                    c[i] = w[i] * (p.Upstream?[i] ?? 1.0);
                }

                break;
            case Reduction.Sum:
                reduced = [Enumerable.Range(0, n).Sum(i => mask[i] ? w[i] * loss[i] : 0)];
                for (int i = 0; i < n; i++)
                {
                    c[i] = mask[i] ? w[i] * (p.Upstream?[0] ?? 1.0) : 0;
                }

                break;
            case Reduction.SumOverBatchSize:
            case Reduction.Mean:
            {
                int count = mask.Count(v => v);
                double total = Enumerable.Range(0, n).Sum(i => mask[i] ? w[i] * loss[i] : 0);
                reduced = [count > 0 ? total / count : 0];
                for (int i = 0; i < n; i++)
                {
                    c[i] = mask[i] && count > 0 ? w[i] / count * (p.Upstream?[0] ?? 1.0) : 0;
                }

                break;
            }

            case Reduction.MeanWithSampleWeight:
            {
                double divisor = Enumerable.Range(0, n).Sum(i => mask[i] ? w[i] : 0);
                double total = Enumerable.Range(0, n).Sum(i => mask[i] ? w[i] * loss[i] : 0);
                reduced = [divisor > 0 ? total / divisor : 0];
                for (int i = 0; i < n; i++)
                {
                    c[i] = mask[i] && divisor > 0 ? w[i] / divisor * (p.Upstream?[0] ?? 1.0) : 0;
                }

                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(p));
        }

        // G_ij = c_i σ(LP_i + LN_i) [P_ij e^(lp_ij − LP_i) ∂lp/∂s + N_ij e^(ln_ij − LN_i) ∂ln/∂s]
        var g = new double[n, m];
        for (int i = 0; i < n; i++)
        {
            double z = lpSum[i] + lnSum[i];
            if (c[i] == 0 || double.IsNegativeInfinity(z))
            {
                continue;
            }

            double scale = c[i] * Sigmoid(z);
            for (int j = 0; j < m; j++)
            {
                double sim = s[i, j];
                if (Positive(i, j))
                {
                    g[i, j] += scale * Math.Exp(Lp(sim) - lpSum[i]) * DLp(sim, γ, margin, p.Mode);
                }
                else if (Negative(i, j))
                {
                    g[i, j] += scale * Math.Exp(Ln(sim) - lnSum[i]) * DLn(sim, γ, margin, p.Mode);
                }
            }
        }

        var gradX = new double[n * d];
        double[]? gradR = refsAreQueries ? null : new double[m * d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double gij = g[i, j];
                if (gij == 0)
                {
                    continue;
                }

                for (int k = 0; k < d; k++)
                {
                    gradX[i * d + k] += gij * r[j * d + k]; // dX = G·R
                    if (refsAreQueries)
                    {
                        gradX[j * d + k] += gij * p.Embeddings[i * d + k]; // + Gᵀ·X: both roles
                    }
                    else
                    {
                        gradR![j * d + k] += gij * p.Embeddings[i * d + k]; // dR = Gᵀ·X
                    }
                }
            }
        }

        return new ReferenceResult(reduced, loss, mask, gradX, gradR);
    }

    /// <summary>∂lp/∂s. Keras: the exact derivative of −γ·max(m + d, 0)·(m − d), d = max(1 − s, 0); Paper: −γ(1 + m − s).</summary>
    private static double DLp(double s, double γ, double m, GradientMode mode)
    {
        if (s >= 1)
        {
            return 0;
        }

        if (mode == GradientMode.Paper)
        {
            return -γ * (1 + m - s);
        }

        double d = 1 - s;
        // d lp / d d = −γ·([m + d > 0]·(m − d) − max(m + d, 0)); d d / d s = −1.
        double dByD = -γ * ((m + d > 0 ? 1 : 0) * (m - d) - Math.Max(m + d, 0));
        return -dByD;
    }

    /// <summary>∂ln/∂s. Keras: the exact derivative of γ·max(1 + m − d, 0)·(1 − m − d); Paper: γ·max(s + m, 0).</summary>
    private static double DLn(double s, double γ, double m, GradientMode mode)
    {
        if (s >= 1)
        {
            return 0;
        }

        if (mode == GradientMode.Paper)
        {
            return γ * Math.Max(s + m, 0);
        }

        double d = 1 - s;
        double dByD = γ * (-(1 + m - d > 0 ? 1 : 0) * (1 - m - d) - Math.Max(1 + m - d, 0));
        return -dByD;
    }

    private static double LogSumExp(double[] values)
    {
        if (values.Length == 0)
        {
            return double.NegativeInfinity;
        }

        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }

    private static double Softplus(double x) =>
        double.IsNegativeInfinity(x) ? 0 : x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));

    /// <summary>log(1 + u), accurate for small u (a softplus of a very negative value must stay positive).</summary>
    private static double Log1P(double u) => Math.Abs(u) < 1e-4 ? u - u * u / 2 + u * u * u / 3 : Math.Log(1 + u);

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
