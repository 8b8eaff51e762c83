// Per-pair and per-row math of the circle loss, shared unchanged by the CPU backend and the CUDA
// kernels. Everything here is a pure inline function of scalars; the backends differ only in how they
// parallelise and where the similarities come from.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "circleloss/circleloss.h"

#if defined(__CUDACC__)
#define CL_HD __host__ __device__ __forceinline__
#else
#define CL_HD inline
#endif

namespace circleloss {
namespace math {

// Overloads so templates pick the float or double function on host and device alike.
CL_HD float cl_exp(float x) { return expf(x); }
CL_HD double cl_exp(double x) { return exp(x); }
CL_HD float cl_log(float x) { return logf(x); }
CL_HD double cl_log(double x) { return log(x); }
CL_HD float cl_log1p(float x) { return log1pf(x); }
CL_HD double cl_log1p(double x) { return log1p(x); }

template <class T>
CL_HD T neg_infinity() {
    return -static_cast<T>(INFINITY);
}

template <class T>
CL_HD T cl_max(T a, T b) {
    return a > b ? a : b;
}

// Loss hyper-parameters in the compute precision.
template <class T>
struct Params {
    T gamma;
    T margin;
    int keras_gradient;  // 1: Keras autodiff, 0: paper (weights detached)
};

// Pair classes. The diagonal (i == j) is removed from the positives only, never made a negative.
enum PairKind : int { kPairIgnored = 0, kPairPositive = 1, kPairNegative = 2 };

// From whether the labels are equal (only equality of labels matters, whatever their type).
CL_HD int pair_kind_of(bool same_label, bool on_diagonal, bool remove_diagonal) {
    if (!same_label) return kPairNegative;
    return (remove_diagonal && on_diagonal) ? kPairIgnored : kPairPositive;
}

// L: the label type (int32_t or int64_t).
template <class L>
CL_HD int pair_kind(L query_label, L ref_label, bool on_diagonal, bool remove_diagonal) {
    return pair_kind_of(query_label == ref_label, on_diagonal, remove_diagonal);
}

// d = max(1 - s, 0)
template <class T>
CL_HD T clamped_distance(T s) {
    return cl_max(T(1) - s, T(0));
}

// lp = -gamma * max(m + d, 0) * (m - d)
template <class T>
CL_HD T positive_logit(T s, const Params<T>& p) {
    const T d = clamped_distance(s);
    return -p.gamma * cl_max(p.margin + d, T(0)) * (p.margin - d);
}

// ln = gamma * max(1 + m - d, 0) * (1 - m - d). A pair with 1 + m - d <= 0 has logit 0, not -inf.
template <class T>
CL_HD T negative_logit(T s, const Params<T>& p) {
    const T d = clamped_distance(s);
    return p.gamma * cl_max(T(1) + p.margin - d, T(0)) * (T(1) - p.margin - d);
}

// d lp / d s. s >= 1 gives 0 (d is clamped) in both modes. Written with selects only, so that loops
// over a row vectorise and GPU threads do not diverge.
template <class T>
CL_HD T positive_logit_slope(T s, const Params<T>& p) {
    const T d = T(1) - s;
    // Keras: lp = -gamma (m + d)(m - d) = -gamma (m^2 - d^2) while m + d > 0: d lp/d s = -2 gamma d.
    const T keras = (p.margin + d > T(0)) ? T(-2) * p.gamma * d : T(0);
    // Paper: alpha_p = max(1 + m - s, 0) held constant, lp = -gamma * alpha_p * (s - (1 - m)).
    const T paper = -p.gamma * cl_max(T(1) + p.margin - s, T(0));
    const T slope = p.keras_gradient ? keras : paper;
    return s < T(1) ? slope : T(0);
}

// d ln / d s.
template <class T>
CL_HD T negative_logit_slope(T s, const Params<T>& p) {
    // Keras: ln = gamma (1 + m - d)(1 - m - d) while 1 + m - d > 0, i.e. s > -m: d ln/d s = 2 gamma s.
    const T keras = (s > -p.margin) ? T(2) * p.gamma * s : T(0);
    // Paper: alpha_n = max(s + m, 0) held constant, ln = gamma * alpha_n * (s - m).
    const T paper = p.gamma * cl_max(s + p.margin, T(0));
    const T slope = p.keras_gradient ? keras : paper;
    return s < T(1) ? slope : T(0);
}

// Bit casts that work in host and device code.
CL_HD float bits_to_float(int32_t v) {
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}
CL_HD int32_t float_to_bits(float f) {
    int32_t v;
    memcpy(&v, &f, sizeof v);
    return v;
}
CL_HD double bits_to_double(int64_t v) {
    double f;
    memcpy(&f, &v, sizeof f);
    return f;
}
CL_HD int64_t double_to_bits(double f) {
    int64_t v;
    memcpy(&v, &f, sizeof v);
    return v;
}

// exp() for the per-pair terms e^(logit - max). Arguments are <= 0 up to rounding; results below the
// smallest normal number are flushed to 0 (they cannot change a sum that contains a 1, nor a gradient
// at the tolerances of the type). On the GPU the hardware-backed library exp is used; on the CPU a
// polynomial that compilers vectorise (no libm call in the loop), accurate to a few ulp.
CL_HD float pair_exp(float x) {
#if defined(__CUDA_ARCH__)
    return expf(x);
#else
    const float lowest = -87.33654f;  // e^lowest = FLT_MIN
    float xc = x < 88.0f ? x : 88.0f;
    xc = xc > lowest ? xc : lowest;
    // e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln(2) / 2; rounding by the 1.5 * 2^23 trick.
    const float shifted = xc * 1.44269504088896341f + 12582912.0f;
    const float n = shifted - 12582912.0f;
    const int32_t ni = float_to_bits(shifted) - 0x4B400000;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    // Cephes expf minimax polynomial.
    float q = 1.9875691500e-4f;
    q = q * r + 1.3981999507e-3f;
    q = q * r + 8.3334519073e-3f;
    q = q * r + 4.1665795894e-2f;
    q = q * r + 1.6666665459e-1f;
    q = q * r + 5.0000001201e-1f;
    q = q * r * r + r + 1.0f;
    const float result = q * bits_to_float((ni + 127) << 23);
    return x > lowest ? result : 0.0f;
#endif
}

CL_HD double pair_exp(double x) {
#if defined(__CUDA_ARCH__)
    return exp(x);
#else
    const double lowest = -708.3964185322641;  // e^lowest = DBL_MIN
    double xc = x < 709.0 ? x : 709.0;
    xc = xc > lowest ? xc : lowest;
    const double shifted = xc * 1.4426950408889634 + 6755399441055744.0;  // 1.5 * 2^52
    const double n = shifted - 6755399441055744.0;
    const int64_t ni = double_to_bits(shifted) - int64_t(0x4338000000000000);
    double r = xc - n * 6.93147180369123816490e-01;
    r = r - n * 1.90821492927058770002e-10;
    // Taylor series to r^13 / 13!: |r| <= 0.347 leaves a relative error below 1e-17.
    double q = 1.0 / 6227020800.0;
    q = q * r + 1.0 / 479001600.0;
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    q = q * r + 1.0;
    q = q * r + 1.0;
    const double result = q * bits_to_double((ni + 1023) << 52);
    return x > lowest ? result : 0.0;
#endif
}

// The logit of a pair, or -inf when the pair is neither a positive nor a negative.
template <class T>
CL_HD T pair_logit(T s, bool positive, bool negative, const Params<T>& p) {
    const T logit = positive ? positive_logit(s, p) : negative_logit(s, p);
    return (positive || negative) ? logit : neg_infinity<T>();
}

// A running, max-shifted log-sum-exp: value = max + log(sum). Empty: max = -inf, sum = 0.
template <class T>
struct OnlineLse {
    T max;
    T sum;
};

template <class T>
CL_HD OnlineLse<T> lse_empty() {
    OnlineLse<T> r;
    r.max = neg_infinity<T>();
    r.sum = T(0);
    return r;
}

// Adds one logit.
template <class T>
CL_HD void lse_add(OnlineLse<T>& acc, T logit) {
    if (logit > acc.max) {
        acc.sum = acc.sum * cl_exp(acc.max - logit) + T(1);  // exp(-inf) = 0 on the first element
        acc.max = logit;
    } else {
        acc.sum += cl_exp(logit - acc.max);
    }
}

// Merges two partial sums (order-independent up to rounding).
template <class T>
CL_HD OnlineLse<T> lse_merge(const OnlineLse<T>& a, const OnlineLse<T>& b) {
    if (b.sum == T(0)) return a;
    if (a.sum == T(0)) return b;
    OnlineLse<T> r;
    if (a.max >= b.max) {
        r.max = a.max;
        r.sum = a.sum + b.sum * cl_exp(b.max - a.max);
    } else {
        r.max = b.max;
        r.sum = b.sum + a.sum * cl_exp(a.max - b.max);
    }
    return r;
}

// log(sum exp) of the accumulated logits; -inf when empty.
template <class T>
CL_HD T lse_value(const OnlineLse<T>& acc) {
    return acc.sum > T(0) ? acc.max + cl_log(acc.sum) : neg_infinity<T>();
}

// Thresholds where softplus(x) == x or == exp(x) to the type's precision (as TensorFlow's softplus).
template <class T>
CL_HD T softplus_threshold();
template <>
CL_HD float softplus_threshold<float>() {
    return 13.942385f;  // -(log(FLT_EPSILON) + 2), as TensorFlow
}
template <>
CL_HD double softplus_threshold<double>() {
    return 34.043653389117154;  // -(log(DBL_EPSILON) + 2)
}

// softplus(x) = log(1 + exp(x)); exact 0 at -inf, so a row without positives or negatives gives 0.
template <class T>
CL_HD T softplus(T x) {
    const T t = softplus_threshold<T>();
    if (x > t) return x;
    if (x < -t) return cl_exp(x);
    return cl_log1p(cl_exp(x));
}

// The logistic function, d softplus(x) / dx; 0 at -inf, stable for large |x|.
template <class T>
CL_HD T logistic(T x) {
    if (x >= T(0)) return T(1) / (T(1) + cl_exp(-x));
    const T e = cl_exp(x);
    return e / (T(1) + e);
}

// Per-row results of the forward pass, from the saved state (LP_i, LN_i).
template <class T>
struct RowLoss {
    T loss;    // l_i = softplus(LP + LN)
    bool valid;  // l_i > 0: Keras's output mask
};

template <class T>
CL_HD RowLoss<T> row_loss(T lp_lse, T ln_lse) {
    RowLoss<T> r;
    const T z = lp_lse + ln_lse;  // -inf when either set is empty
    r.loss = softplus(z);
    r.valid = r.loss > T(0);
    return r;
}

// The factor shared by every pair of row i in the gradient: sigma(LP + LN) times the row's reduction
// coefficient c_i (which is 0 for masked rows, so they never produce NaN).
template <class T>
CL_HD T row_gradient_scale(T lp_lse, T ln_lse, T reduction_coefficient) {
    if (reduction_coefficient == T(0)) return T(0);
    const T z = lp_lse + ln_lse;
    if (!(z > neg_infinity<T>())) return T(0);
    return reduction_coefficient * logistic(z);
}

// Everything about one similarity that does not depend on which row sees it: both logits and both
// slopes. The symmetric gradient evaluates a similarity from two rows and shares these.
template <class T>
struct PairTerms {
    T lp, ln;            // positive and negative logit
    T lp_slope, ln_slope;  // their derivatives with respect to s
};

template <class T>
CL_HD PairTerms<T> pair_terms(T s, const Params<T>& p) {
    PairTerms<T> t;
    t.lp = positive_logit(s, p);
    t.ln = negative_logit(s, p);
    t.lp_slope = positive_logit_slope(s, p);
    t.ln_slope = negative_logit_slope(s, p);
    return t;
}

// G_ij = scale_i * [e^(lp - LP_i) dlp/ds] for positives, scale_i * [e^(ln - LN_i) dln/ds] for
// negatives, 0 for ignored pairs and for rows whose scale is 0 (masked rows, empty sets: never NaN).
template <class T>
CL_HD T pair_gradient_from_terms(const PairTerms<T>& t, bool positive, bool negative, T lp_lse, T ln_lse,
                                 T row_scale) {
    const T logit = positive ? t.lp : t.ln;
    const T slope = positive ? t.lp_slope : t.ln_slope;
    const T lse = positive ? lp_lse : ln_lse;
    // A row with a non-zero scale has finite LP and LN for every set it has members in.
    const bool active = (positive || negative) && row_scale != T(0);
    const T g = row_scale * pair_exp(logit - (active ? lse : T(0))) * slope;
    return active ? g : T(0);
}

template <class T>
CL_HD T pair_gradient_flags(T s, bool positive, bool negative, T lp_lse, T ln_lse, T row_scale,
                            const Params<T>& p) {
    return pair_gradient_from_terms(pair_terms(s, p), positive, negative, lp_lse, ln_lse, row_scale);
}

template <class T>
CL_HD T pair_gradient(T s, int kind, T lp_lse, T ln_lse, T row_scale, const Params<T>& p) {
    return pair_gradient_flags(s, kind == kPairPositive, kind == kPairNegative, lp_lse, ln_lse, row_scale, p);
}

// Reductions: the weight c_i of row i in the reduced loss (before the upstream gradient).
// The values of circleloss_reduction (the C ABI), as plain ints the kernels can switch on.
enum ReductionKind : int {
    kReduceNone = CIRCLELOSS_REDUCTION_NONE,
    kReduceSum = CIRCLELOSS_REDUCTION_SUM,
    kReduceSumOverBatchSize = CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,
    kReduceMean = CIRCLELOSS_REDUCTION_MEAN,
    kReduceMeanWithSampleWeight = CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT
};

// The divisor of a scalar reduction given count(valid) and sum(w_i * valid_i); 0 means "result is 0".
template <class T>
CL_HD T reduction_divisor(int reduction, T valid_count, T valid_weight_sum) {
    switch (reduction) {
        case kReduceSum: return T(1);
        case kReduceSumOverBatchSize:
        case kReduceMean: return valid_count;
        case kReduceMeanWithSampleWeight: return valid_weight_sum;
        default: return T(1);
    }
}

// The divisor a call uses: the caller's (problem->reduction_divisor: a whole batch's, when the call
// computes part of it) when given (> 0), else the call's own. A batch whose divisor is 0 has parts whose
// own divisors are 0 too (counts and weights are >= 0), so "0 = own" loses nothing.
template <class T>
CL_HD T call_divisor(T own, T supplied) {
    return supplied > T(0) ? supplied : own;
}

// A scalar reduction's value: total / divisor, 0 when the divisor is 0 (as divide_no_nan).
CL_HD double reduced_loss(double total, double divisor) {
    return divisor == 0 ? 0.0 : total / divisor;
}

// c_i for scalar reductions: w_i * valid_i / divisor (0 when the divisor is 0, as divide_no_nan).
template <class T>
CL_HD T reduction_coefficient(T weight, bool valid, T divisor) {
    if (!valid || divisor == T(0)) return T(0);
    return weight / divisor;
}

// Row i's term of a scalar reduction's total, w_i * l_i, in double whatever the element type: both
// backends accumulate the same products (the sums themselves are in double too).
template <class T>
CL_HD double weighted_row_loss(T weight, T loss) {
    return static_cast<double>(weight) * static_cast<double>(loss);
}

// The coefficient of row i's gradient before sigma(LP_i + LN_i), upstream included: for reduction NONE
// w_i * u_i (0 for a row whose loss is 0), else c_i * u with c_i = w_i * valid_i / divisor, computed in
// double and rounded once.
template <class T>
CL_HD T row_coefficient(int reduction, bool valid, T weight, T upstream, double divisor) {
    if (reduction == kReduceNone) return valid ? weight * upstream : T(0);
    const double c = reduction_coefficient(static_cast<double>(weight), valid, divisor);
    return static_cast<T>(c * static_cast<double>(upstream));
}

}  // namespace math
}  // namespace circleloss
