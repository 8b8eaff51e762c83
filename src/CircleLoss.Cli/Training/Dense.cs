using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace CircleLoss.Cli.Training;

/// <summary>The few dense kernels the demo model needs, row-major, vectorised with <see cref="Vector{T}"/>.
/// Sizes are small (batches of a few hundred rows, widths of tens to hundreds): no BLAS needed.</summary>
internal static class Dense
{
    /// <summary>y += a·x.</summary>
    public static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.", nameof(y));
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var va = new Vector<double>(a);
            ReadOnlySpan<Vector<double>> vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            Span<Vector<double>> vy = MemoryMarshal.Cast<double, Vector<double>>(y);
            for (int k = 0; k < vx.Length; k++)
            {
                vy[k] += va * vx[k];
            }

            i = vx.Length * Vector<double>.Count;
        }

        for (; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>Σ x_i·y_i.</summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.", nameof(y));
        }

        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            Vector<double> acc = Vector<double>.Zero;
            ReadOnlySpan<Vector<double>> vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            ReadOnlySpan<Vector<double>> vy = MemoryMarshal.Cast<double, Vector<double>>(y);
            for (int k = 0; k < vx.Length; k++)
            {
                acc += vx[k] * vy[k];
            }

            sum = Vector.Sum(acc);
            i = vx.Length * Vector<double>.Count;
        }

        for (; i < x.Length; i++)
        {
            sum += x[i] * y[i];
        }

        return sum;
    }

    /// <summary>C (r×c) = A (r×k) · B (k×c), then each row of C += bias (c values) when bias is not empty.</summary>
    public static void MatMul(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int rows, int inner, int columns,
        ReadOnlySpan<double> bias = default)
    {
        Check(a, rows * inner, nameof(a));
        Check(b, inner * columns, nameof(b));
        Check(c, rows * columns, nameof(c));
        for (int i = 0; i < rows; i++)
        {
            Span<double> row = c.Slice(i * columns, columns);
            if (bias.IsEmpty)
            {
                row.Clear();
            }
            else
            {
                bias.CopyTo(row);
            }

            ReadOnlySpan<double> ai = a.Slice(i * inner, inner);
            for (int p = 0; p < inner; p++)
            {
                double v = ai[p];
                if (v != 0)
                {
                    Axpy(v, b.Slice(p * columns, columns), row);
                }
            }
        }
    }

    /// <summary>C (k×c) = Aᵀ · B with A (r×k) and B (r×c): the weight gradient of a dense layer.</summary>
    public static void MatMulTransposeA(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int rows, int inner, int columns)
    {
        Check(a, rows * inner, nameof(a));
        Check(b, rows * columns, nameof(b));
        Check(c, inner * columns, nameof(c));
        c.Clear();
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> ai = a.Slice(i * inner, inner);
            ReadOnlySpan<double> bi = b.Slice(i * columns, columns);
            for (int p = 0; p < inner; p++)
            {
                double v = ai[p];
                if (v != 0)
                {
                    Axpy(v, bi, c.Slice(p * columns, columns));
                }
            }
        }
    }

    /// <summary>C (r×k) = A (r×c) · Bᵀ with B (k×c): the input gradient of a dense layer.</summary>
    public static void MatMulTransposeB(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int rows, int columns, int inner)
    {
        Check(a, rows * columns, nameof(a));
        Check(b, inner * columns, nameof(b));
        Check(c, rows * inner, nameof(c));
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> ai = a.Slice(i * columns, columns);
            for (int p = 0; p < inner; p++)
            {
                c[i * inner + p] = Dot(ai, b.Slice(p * columns, columns));
            }
        }
    }

    /// <summary>out[j] = Σ_i m[i, j] (column sums of an r×c matrix).</summary>
    public static void ColumnSums(ReadOnlySpan<double> m, Span<double> output, int rows, int columns)
    {
        Check(m, rows * columns, nameof(m));
        Check(output, columns, nameof(output));
        output.Clear();
        for (int i = 0; i < rows; i++)
        {
            Axpy(1.0, m.Slice(i * columns, columns), output);
        }
    }

    private static void Check(ReadOnlySpan<double> span, int expected, string name)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} must hold {expected} values, not {span.Length}.", name);
        }
    }
}
