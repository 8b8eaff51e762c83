// libFuzzer target over the C ABI (issue 9).
//
// Each input describes one call: which session, which entry point, the dtype, sizes (edge sizes 0/1
// included), options (invalid enums and struct sizes included), labels (int32 or int64), embeddings (normalised, raw,
// duplicated, denormal, huge, NaN, infinity), reference sets, sample weights, upstream gradients and
// saved states, and which pointers are NULL. Every buffer is allocated with exactly the size the
// problem claims, so AddressSanitizer sees any access outside it. Sizes that would need buffers the
// fuzzer does not allocate are only passed when their products overflow (the library must refuse them
// before touching anything); other oversized shapes are skipped.
//
// The oracle: while building the call the target records every fault it injected together with the
// status the header documents for it. Then
//   - no crash, no sanitizer report, no leak;
//   - no faults  -> the status is OK (OUT_OF_MEMORY is accepted only on the two sessions with a
//                   workspace limit);
//   - faults     -> the status is one of the statuses documented for the injected faults, the message
//                   is not empty, and every output is bit-for-bit untouched;
//   - OK         -> nothing left unwritten (outputs are pre-filled with a NaN sentinel), no NaN
//                   anywhere, and everything finite when the inputs are in the sane domain (embeddings
//                   |x| <= 4, gamma <= 1024, |margin| <= 4, weights and upstream <= 1e6); per-sample
//                   losses >= 0, mask == (per-sample loss > 0), reduction NONE gives w_i * l_i exactly,
//                   scalar reductions agree with the per-sample losses, and the same call on a session
//                   with the same plan (materialised or streamed) and another thread count gives
//                   bitwise identical outputs (as the CPU backend promises); forward-then-backward
//                   gives the gradients of the combined call.
#include <fuzzer/FuzzedDataProvider.h>

#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "circleloss/circleloss.h"

namespace {

// ---- sessions, created once ---------------------------------------------------------------------

// Sessions 0-2 use the Auto plan (the n×m similarity matrix in memory, for these sizes), 4-5 the
// streamed plan (tile by tile: CIRCLELOSS_CPU_PLAN=stream at creation). Within each group the thread
// count differs and results must be bitwise identical. Sessions 3 and 6 have workspace limits that
// some problems exceed (OUT_OF_MEMORY is then the documented answer): 20,000 bytes hold the matrix of
// small problems only; 266,800 bytes hold one thread's float32 tile scratch plus the row state for
// n <= 46, never float64.
struct SessionSpec {
    int threads;
    const char* plan;
    uint64_t workspace;
    int group;  // sessions of one group give bitwise identical results; -1: none
};
constexpr SessionSpec kSpecs[] = {{1, "auto", 0, 0},      {2, "auto", 0, 0},      {3, "auto", 0, 0},
                                  {1, "auto", 20000, -1}, {1, "stream", 0, 1},    {3, "stream", 0, 1},
                                  {1, "stream", 266800, -1}};
constexpr int kSessions = sizeof kSpecs / sizeof kSpecs[0];
circleloss_session* g_sessions[kSessions];

bool may_run_out_of_memory(int session) { return kSpecs[session].workspace != 0; }

// Another session of the same group (the next one, cyclically), or -1.
int same_group_peer(int session) {
    const int group = kSpecs[session].group;
    if (group < 0) return -1;
    for (int k = 1; k < kSessions; ++k) {
        const int other = (session + k) % kSessions;
        if (kSpecs[other].group == group) return other;
    }
    return -1;
}
// CIRCLELOSS_FUZZ_ALLOW_EXTREME_NAN=1: accept NaN outputs when the inputs are outside the sane domain
// (to look past a known finding; CI leaves it unset).
bool g_allow_extreme_nan = false;
// CIRCLELOSS_FUZZ_PRINT_CASES=1: print every case that passed (with -runs=0 over a corpus: what it
// covers, e.g. to pick a regression input for a given case).
bool g_print_cases = false;

// Describes the current case (sizes, options, values) for the report of a failed check.
std::function<std::string()> g_describe;

[[noreturn]] void fail(const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::fputs("\n*** circleloss fuzz oracle: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputs("\n", stderr);
    va_end(args);
    if (g_describe) std::fputs(g_describe().c_str(), stderr);
    std::abort();
}

#define CHECK(condition, ...)                                                                    \
    do {                                                                                         \
        if (!(condition)) fail("%s:%d: CHECK(%s) failed: %s", __FILE__, __LINE__, #condition,     \
                               format_message(__VA_ARGS__).c_str());                             \
    } while (0)

std::string format_message(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string format_message(const char* format, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buffer, sizeof buffer, format, args);
    va_end(args);
    return buffer;
}

void create_sessions() {
    for (int i = 0; i < kSessions; ++i) {
        circleloss_session_config config;
        if (circleloss_session_config_init(&config) != CIRCLELOSS_STATUS_OK) fail("session_config_init");
        config.backend = CIRCLELOSS_BACKEND_CPU;
        config.num_threads = kSpecs[i].threads;
        config.workspace_limit_bytes = kSpecs[i].workspace;
        setenv("CIRCLELOSS_CPU_PLAN", kSpecs[i].plan, 1);  // read when the session is created
        if (circleloss_session_create(&g_sessions[i], &config) != CIRCLELOSS_STATUS_OK)
            fail("session_create: %s", circleloss_last_error());
        unsetenv("CIRCLELOSS_CPU_PLAN");
    }
}

// ---- faults and the statuses the header documents for them ---------------------------------------

using StatusSet = uint32_t;
constexpr StatusSet bit(circleloss_status s) { return StatusSet(1) << static_cast<unsigned>(s); }

// Faults are grouped by which calls see them.
struct Faults {
    StatusSet common = 0;       // session, problem (structure, sizes, pointers, embeddings, weights)
    StatusSet options = 0;      // options (not seen by measure_product_floor)
    StatusSet upstream = 0;     // upstream values (backward and forward_backward only)
    StatusSet forward_out = 0;  // forward output struct
    StatusSet gradient_out = 0; // gradient output struct
    StatusSet state = 0;        // fabricated saved state (backward only)
    std::string notes;          // what was injected, for the crash report
    void add(StatusSet& group, circleloss_status status, const char* what) {
        group |= bit(status);
        notes += what;
        notes += "; ";
    }
};

std::string status_list(StatusSet set) {
    std::string s;
    for (unsigned i = 0; i < 32; ++i)
        if (set & (StatusSet(1) << i)) {
            if (!s.empty()) s += '|';
            s += circleloss_status_name(static_cast<circleloss_status>(i));
        }
    return s.empty() ? "OK" : s;
}

// Enum fields are written and read as their int32 representation: in C++ merely loading an enum
// object that holds a value outside the enumeration's range is undefined (UBSan's -fsanitize=enum).
template <class E>
void set_raw(E& field, int32_t value) {
    static_assert(sizeof(E) == sizeof(int32_t), "the C ABI's enums are int-sized");
    std::memcpy(&field, &value, sizeof value);
}
template <class E>
int32_t raw(const E& field) {
    int32_t value;
    std::memcpy(&value, &field, sizeof value);
    return value;
}

// ---- values ---------------------------------------------------------------------------------------

template <class T>
T finite_special(FuzzedDataProvider& f) {
    const T table[] = {T(0),
                       -T(0),
                       T(1),
                       T(-1),
                       T(0.5),
                       T(1e-3),
                       std::numeric_limits<T>::denorm_min(),
                       -std::numeric_limits<T>::denorm_min(),
                       std::numeric_limits<T>::min(),
                       std::numeric_limits<T>::max(),
                       std::numeric_limits<T>::lowest(),
                       T(1e10),
                       T(-1e10),
                       T(1) + std::numeric_limits<T>::epsilon(),
                       T(1) - std::numeric_limits<T>::epsilon(),
                       T(4),
                       T(-4)};
    return table[f.ConsumeIntegralInRange<size_t>(0, sizeof table / sizeof table[0] - 1)];
}

template <class T>
T non_finite(FuzzedDataProvider& f) {
    switch (f.ConsumeIntegralInRange<int>(0, 2)) {
        case 0: return std::numeric_limits<T>::quiet_NaN();
        case 1: return std::numeric_limits<T>::infinity();
        default: return -std::numeric_limits<T>::infinity();
    }
}

// Small values from two bytes: [-2, 2) in steps of 2^-14.
template <class T>
T small_value(FuzzedDataProvider& f) {
    return static_cast<T>(f.ConsumeIntegral<int16_t>()) / T(16384);
}

// Fills a rows×cols matrix. Returns true when some value is outside the sane domain.
template <class T>
bool fill_matrix(FuzzedDataProvider& f, std::vector<T>& v, int64_t rows, int64_t cols) {
    bool extreme = false;
    const int style = f.ConsumeIntegralInRange<int>(0, 4);
    for (int64_t i = 0; i < rows; ++i) {
        T* row = v.data() + i * cols;
        double norm = 0;
        for (int64_t k = 0; k < cols; ++k) {
            T x;
            if (style == 4 && f.ConsumeIntegralInRange<int>(0, 7) == 0) {
                x = finite_special<T>(f);
            } else {
                x = small_value<T>(f);
            }
            row[k] = x;
            norm += static_cast<double>(x) * static_cast<double>(x);
        }
        // Styles 0-2: L2-normalised rows (what callers are meant to pass); 3-4: raw values.
        if (style <= 2 && norm > 0 && std::isfinite(norm)) {
            const double inv = 1 / std::sqrt(norm);
            for (int64_t k = 0; k < cols; ++k) row[k] = static_cast<T>(static_cast<double>(row[k]) * inv);
        }
        // Style 1: duplicate earlier rows (similarity exactly or nearly 1 across classes).
        if (style == 1 && i > 0 && f.ConsumeBool()) {
            const int64_t from = f.ConsumeIntegralInRange<int64_t>(0, i - 1);
            std::memcpy(row, v.data() + from * cols, static_cast<size_t>(cols) * sizeof(T));
        }
        for (int64_t k = 0; k < cols; ++k)
            if (!(std::fabs(static_cast<double>(row[k])) <= 4)) extreme = true;
    }
    return extreme;
}

template <class T>
bool is_sentinel(T v);
template <>
bool is_sentinel<float>(float v) {
    uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return b == 0x7fc0beefu;
}
template <>
bool is_sentinel<double>(double v) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b == 0x7ff8dead0000beefull;
}
template <class T>
T sentinel();
template <>
float sentinel<float>() {
    const uint32_t b = 0x7fc0beefu;
    float v;
    std::memcpy(&v, &b, sizeof v);
    return v;
}
template <>
double sentinel<double>() {
    const uint64_t b = 0x7ff8dead0000beefull;
    double v;
    std::memcpy(&v, &b, sizeof v);
    return v;
}
constexpr uint8_t kMaskSentinel = 0xA5;

// ---- outputs --------------------------------------------------------------------------------------

template <class T>
struct Outputs {
    std::vector<T> loss, per, state, gx, gr;
    std::vector<uint8_t> mask;
    circleloss_forward_output fwd;
    circleloss_gradient_output grad;

    void allocate(size_t loss_len, size_t n, size_t gx_len, size_t gr_len) {
        loss.assign(loss_len, sentinel<T>());
        per.assign(n, sentinel<T>());
        state.assign(2 * n, sentinel<T>());
        gx.assign(gx_len, sentinel<T>());
        gr.assign(gr_len, sentinel<T>());
        mask.assign(n, kMaskSentinel);
        circleloss_forward_output_init(&fwd);
        circleloss_gradient_output_init(&grad);
        // Empty vectors give NULL data() on libstdc++ only by accident: be explicit.
        fwd.loss = loss.empty() ? nullptr : loss.data();
        fwd.per_sample_loss = per.empty() ? nullptr : per.data();
        fwd.mask = mask.empty() ? nullptr : mask.data();
        fwd.saved_state = state.empty() ? nullptr : state.data();
        grad.grad_embeddings = gx.empty() ? nullptr : gx.data();
        grad.grad_ref_embeddings = gr.empty() ? nullptr : gr.data();
    }
};

template <class T>
bool untouched(const std::vector<T>& v) {
    for (T x : v)
        if (!is_sentinel(x)) return false;
    return true;
}
bool untouched(const std::vector<uint8_t>& v) {
    for (uint8_t x : v)
        if (x != kMaskSentinel) return false;
    return true;
}

// No NaN (and no infinity when `finite`); `allow_neg_inf` for saved states (empty sets are -inf).
enum class Expect { Finite, NoNaN, Anything };

template <class T>
void check_values(const std::vector<T>& v, bool written, Expect expect, bool allow_neg_inf, const char* name,
                  const std::string& notes) {
    const bool finite = expect == Expect::Finite;
    if (!written) {
        CHECK(untouched(v), "%s written although the call did not ask for it (%s)", name, notes.c_str());
        return;
    }
    for (size_t i = 0; i < v.size(); ++i) {
        const T x = v[i];
        CHECK(!is_sentinel(x), "%s[%zu] not written by a successful call (%s)", name, i, notes.c_str());
        CHECK(!std::isnan(x) || expect == Expect::Anything, "%s[%zu] is NaN after OK (%s)", name, i, notes.c_str());
        if (finite) {
            const bool ok = std::isfinite(x) || (allow_neg_inf && x < 0 && std::isinf(x));
            CHECK(ok, "%s[%zu] = %g is not finite for sane inputs (%s)", name, i, static_cast<double>(x),
                  notes.c_str());
        }
    }
}

// ---- one fuzz case --------------------------------------------------------------------------------

enum CallKind { kForward, kForwardBackward, kTwoStep, kBackwardFabricated, kProductFloor };

struct Shape {
    int64_t n, d, m;  // as passed
    int64_t m_eff;    // the reference rows the library will use
    bool has_ref_labels, has_ref_embeddings;
};

bool overflows(const Shape& s, int64_t element) {
    int64_t r;
    if (__builtin_mul_overflow(s.n, s.d, &r) || __builtin_mul_overflow(r, element, &r)) return true;
    if (__builtin_mul_overflow(s.m, s.d, &r) || __builtin_mul_overflow(r, element, &r)) return true;
    if (__builtin_mul_overflow(s.n, s.m_eff, &r)) return true;
    if (__builtin_mul_overflow(s.n, 2 * element, &r)) return true;
    return false;
}

constexpr int64_t kMaxRows = 64;
constexpr int64_t kMaxDim = 16;

template <class T>
void run_typed(FuzzedDataProvider& f, int32_t dtype_value, bool dtype_valid) {
    Faults faults;
    bool extreme = false;
    const int64_t element = static_cast<int64_t>(sizeof(T));

    // Session.
    const int session_index = f.ConsumeIntegralInRange<int>(0, kSessions - 1);
    circleloss_session* session = g_sessions[session_index];
    if (f.ConsumeIntegralInRange<int>(0, 63) == 0) {
        session = nullptr;
        faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_SESSION, "null session");
    }

    // Call.
    CallKind call;
    {
        const int c = f.ConsumeIntegralInRange<int>(0, 31);
        call = c < 8 ? kForward : c < 18 ? kForwardBackward : c < 25 ? kTwoStep : c < 31 ? kBackwardFabricated : kProductFloor;
    }

    // Shape. Reference mode: 0 none, 1 ref_labels only, 2 ref_embeddings only, 3 both.
    Shape s{};
    const int ref_mode = f.ConsumeIntegralInRange<int>(0, 3);
    s.has_ref_labels = ref_mode == 1 || ref_mode == 3;
    s.has_ref_embeddings = ref_mode == 2 || ref_mode == 3;
    s.n = f.ConsumeIntegralInRange<int64_t>(0, kMaxRows);
    s.d = f.ConsumeIntegralInRange<int64_t>(1, kMaxDim);
    if (ref_mode == 3) {
        s.m = f.ConsumeIntegralInRange<int64_t>(0, kMaxRows);
    } else if (ref_mode == 0) {
        s.m = f.ConsumeBool() ? s.n : 0;
    } else {
        s.m = s.n;
    }
    bool size_fault = false;
    switch (f.ConsumeIntegralInRange<int>(0, 47)) {
        case 0: s.n = -f.ConsumeIntegralInRange<int64_t>(1, std::numeric_limits<int64_t>::max()); size_fault = true;
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "n < 0"); break;
        case 1: s.d = -f.ConsumeIntegralInRange<int64_t>(0, 1000); size_fault = true;
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "d < 1"); break;
        case 2: s.m = -f.ConsumeIntegralInRange<int64_t>(1, 1000); size_fault = true;
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "m < 0"); break;
        case 3:
            if (ref_mode != 3) {
                const int64_t m = s.n + f.ConsumeIntegralInRange<int64_t>(1, 5);
                s.m = m;
                size_fault = true;
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "m inconsistent with the references");
            }
            break;
        case 4:  // n large with self-similarity: n * m overflows, nothing may be read
            s.n = (int64_t(1) << 32) + f.ConsumeIntegralInRange<int64_t>(0, 1000);
            s.m = ref_mode == 3 ? s.n : (ref_mode == 0 && f.ConsumeBool() ? 0 : s.n);
            size_fault = true;
            break;
        case 5:  // d huge
            s.d = std::numeric_limits<int64_t>::max() / f.ConsumeIntegralInRange<int64_t>(1, 16);
            size_fault = true;
            break;
        case 6:
            if (ref_mode == 3) {
                s.m = std::numeric_limits<int64_t>::max() / f.ConsumeIntegralInRange<int64_t>(1, 8);
                size_fault = true;
            }
            break;
        default: break;
    }
    s.m_eff = ref_mode == 3 ? s.m : s.n;
    const bool shape_valid = s.n >= 0 && s.d >= 1 && s.m >= 0 &&
                             (ref_mode == 3 || (ref_mode == 0 ? (s.m == 0 || s.m == s.n) : s.m == s.n));
    if (shape_valid && overflows(s, element)) {
        faults.add(faults.common, CIRCLELOSS_STATUS_SIZE_OVERFLOW, "sizes overflow");
    } else if (shape_valid && (s.n > kMaxRows || s.m_eff > kMaxRows || s.d > kMaxDim)) {
        // Large but representable: the library would legitimately read buffers this target does not
        // allocate (n = 0 or m = 0 with a huge d is such a case). Not a fault; not run.
        return;
    }
    (void)size_fault;
    // Buffer sizes: what the problem claims when it is valid, nothing otherwise (the call must fail
    // before reading).
    const bool buffers_real = shape_valid && faults.common == 0;
    const size_t n = buffers_real ? static_cast<size_t>(s.n) : 0;
    const size_t d = buffers_real ? static_cast<size_t>(s.d) : 0;
    const size_t m = buffers_real ? static_cast<size_t>(s.m_eff) : 0;

    // Labels.
    std::vector<int32_t> labels(n), ref_labels(s.has_ref_labels ? m : 0);
    {
        const int classes = f.ConsumeIntegralInRange<int>(1, 8);
        const bool raw = f.ConsumeIntegralInRange<int>(0, 7) == 0;
        for (auto& l : labels) l = raw ? f.ConsumeIntegral<int32_t>() : f.ConsumeIntegralInRange<int32_t>(0, classes - 1);
        for (auto& l : ref_labels) l = raw ? f.ConsumeIntegral<int32_t>() : f.ConsumeIntegralInRange<int32_t>(0, classes - 1);
    }

    // Embeddings; references sometimes copies of the queries.
    std::vector<T> x(n * d), r(s.has_ref_embeddings ? m * d : 0);
    extreme |= fill_matrix(f, x, static_cast<int64_t>(n), static_cast<int64_t>(d));
    if (!r.empty()) {
        if (f.ConsumeIntegralInRange<int>(0, 3) == 0 && m <= n) {
            std::memcpy(r.data(), x.data(), r.size() * sizeof(T));
        } else {
            extreme |= fill_matrix(f, r, static_cast<int64_t>(m), static_cast<int64_t>(d));
        }
    }
    if (!x.empty() && f.ConsumeIntegralInRange<int>(0, 15) == 0) {
        x[f.ConsumeIntegralInRange<size_t>(0, x.size() - 1)] = non_finite<T>(f);
        faults.add(faults.common, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "non-finite embedding");
    }
    if (!r.empty() && f.ConsumeIntegralInRange<int>(0, 15) == 0) {
        r[f.ConsumeIntegralInRange<size_t>(0, r.size() - 1)] = non_finite<T>(f);
        faults.add(faults.common, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "non-finite ref embedding");
    }

    // Sample weights.
    std::vector<T> w;
    const bool weights_given = f.ConsumeIntegralInRange<int>(0, 2) == 0;
    if (weights_given) {
        w.resize(n);
        const int style = f.ConsumeIntegralInRange<int>(0, 3);
        for (auto& v : w) {
            if (style == 0) v = T(0);
            else if (style == 3 && f.ConsumeBool()) v = std::fabs(finite_special<T>(f));
            else v = std::fabs(small_value<T>(f)) * T(4);
            if (!(v <= T(1e6))) extreme = true;
        }
        if (!w.empty()) {
            const int fault = f.ConsumeIntegralInRange<int>(0, 15);
            if (fault == 0) {
                w[f.ConsumeIntegralInRange<size_t>(0, w.size() - 1)] = non_finite<T>(f);
                faults.add(faults.common, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "non-finite weight");
            } else if (fault == 1) {
                w[f.ConsumeIntegralInRange<size_t>(0, w.size() - 1)] = -std::fabs(finite_special<T>(f)) - T(1e-3);
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "negative weight");
            }
        }
    }

    // Options.
    circleloss_options o;
    circleloss_options_init(&o);
    o.gamma = f.ConsumeBool() ? 80.0 : f.ConsumeFloatingPointInRange<double>(1e-3, 1024.0);
    o.margin = f.ConsumeBool() ? 0.4 : f.ConsumeFloatingPointInRange<double>(-1.0, 1.5);
    o.remove_diagonal = f.ConsumeBool() ? 1 : 0;
    set_raw(o.reduction, f.ConsumeIntegralInRange<int32_t>(0, 4));
    set_raw(o.gradient_mode, f.ConsumeIntegralInRange<int32_t>(0, 1));
    switch (f.ConsumeIntegralInRange<int>(0, 31)) {
        case 0: o.gamma = f.PickValueInArray<double>({0.0, -0.0, -1.0, NAN, INFINITY, -INFINITY, -1e300});
                faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gamma invalid"); break;
        case 1: o.margin = f.PickValueInArray<double>({NAN, INFINITY, -INFINITY});
                faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "margin invalid"); break;
        case 2: o.remove_diagonal = f.PickValueInArray<int32_t>({2, -1, 0x7fffffff});
                faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "remove_diagonal invalid"); break;
        case 3: set_raw(o.reduction, f.PickValueInArray<int32_t>({5, -1, 1 << 30}));
                faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "reduction invalid"); break;
        case 4: set_raw(o.gradient_mode, f.PickValueInArray<int32_t>({2, -1, 99}));
                faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gradient_mode invalid"); break;
        case 5: o.struct_size = f.PickValueInArray<uint32_t>({0, 4, sizeof(circleloss_options) + 8, 0xffffffffu});
                faults.add(faults.options, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "options->struct_size"); break;
        case 6: o.gamma = f.PickValueInArray<double>({1024.0, 1e-300, 5e-324, 1e-40, 1.2e-38, 1e-30, 1e30, 1e300,
                                                      1.7976931348623157e308});
                break;
        case 7: o.margin = f.PickValueInArray<double>({0.0, 0.99, -0.99, 4.0, -4.0, 1e-40, -1e-300, 1e30, -1e30, 1e300});
                break;
        default: break;
    }
    if (!(o.gamma <= 1024.0) || !(std::fabs(o.margin) <= 4.0)) extreme = true;
    // The call computes in T: a gamma, or a non-zero margin, that is zero, denormal or infinite there is
    // refused (issue 12: gamma 5e-324 became 0 in float32 and gave NaN with status OK).
    if (std::isfinite(o.gamma) && o.gamma > 0 && !std::isnormal(static_cast<T>(o.gamma)))
        faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gamma not a normal number of the dtype");
    if (std::isfinite(o.margin) && o.margin != 0 && !std::isnormal(static_cast<T>(o.margin)))
        faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "margin not a normal number of the dtype");
    const bool options_null = f.ConsumeIntegralInRange<int>(0, 63) == 0;
    if (options_null) faults.add(faults.options, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options NULL");
    const int32_t reduction = raw(o.reduction);
    const bool reduction_valid = reduction >= 0 && reduction <= 4;
    const bool reduction_none = reduction == CIRCLELOSS_REDUCTION_NONE;
    // The loss length the library will use (n for NONE); invalid reductions are refused first.
    const size_t loss_len = reduction_none ? n : 1;

    // Upstream.
    std::vector<T> up;
    if (f.ConsumeBool()) {
        up.resize(reduction_valid ? loss_len : std::max<size_t>(n, 1));
        for (auto& v : up) {
            v = f.ConsumeIntegralInRange<int>(0, 7) == 0 ? finite_special<T>(f) : small_value<T>(f) * T(8);
            if (!(std::fabs(static_cast<double>(v)) <= 1e6)) extreme = true;
        }
        if (!up.empty() && reduction_valid && f.ConsumeIntegralInRange<int>(0, 15) == 0) {
            up[f.ConsumeIntegralInRange<size_t>(0, up.size() - 1)] = non_finite<T>(f);
            faults.add(faults.upstream, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "non-finite upstream");
        }
    }

    // The problem.
    circleloss_problem p;
    circleloss_problem_init(&p);
    set_raw(p.dtype, dtype_value);
    if (!dtype_valid) faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "dtype invalid");
    p.n = s.n;
    p.d = s.d;
    p.m = s.m;
    p.labels = labels.empty() ? nullptr : labels.data();
    p.embeddings = x.empty() ? nullptr : x.data();
    // A reference pointer must be non-NULL to count as given, even when m = 0.
    static const int32_t kDummyLabel = 0;
    static const double kDummyEmbedding = 0;
    p.ref_labels = s.has_ref_labels ? (ref_labels.empty() ? &kDummyLabel : ref_labels.data()) : nullptr;
    p.ref_embeddings = s.has_ref_embeddings ? (r.empty() ? static_cast<const void*>(&kDummyEmbedding) : r.data()) : nullptr;
    p.sample_weights = weights_given ? (w.empty() ? static_cast<const void*>(&kDummyEmbedding) : w.data()) : nullptr;
    p.upstream = up.empty() ? nullptr : up.data();
    switch (f.ConsumeIntegralInRange<int>(0, 31)) {
        case 0:
            if (s.n > 0) {
                p.labels = nullptr;
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "labels NULL");
            }
            break;
        case 1:
            if (s.n > 0) {
                p.embeddings = nullptr;
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "embeddings NULL");
            }
            break;
        case 2: set_raw(p.memory, f.PickValueInArray<int32_t>({1, 2, -1}));
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "memory DEVICE on a CPU session, or invalid");
                break;
        case 3: set_raw(p.label_type, f.PickValueInArray<int32_t>({2, -1}));
                faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->label_type invalid"); break;
        case 4: p.struct_size = f.PickValueInArray<uint32_t>({0, 8, sizeof(circleloss_problem) - 8, 4096});
                faults.add(faults.common, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "problem->struct_size"); break;
        default: break;
    }
    const bool problem_null = f.ConsumeIntegralInRange<int>(0, 63) == 0;
    if (problem_null) faults.add(faults.common, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem NULL");

    // Outputs: optional forward outputs sometimes left out; output faults.
    Outputs<T> out;
    const bool refs_given = s.has_ref_embeddings;
    out.allocate(reduction_valid ? loss_len : std::max<size_t>(n, 1), n, n * d, refs_given ? m * d : 0);
    const bool want_per = f.ConsumeIntegralInRange<int>(0, 7) != 0;
    const bool want_mask = f.ConsumeIntegralInRange<int>(0, 7) != 0;
    const bool want_state = f.ConsumeIntegralInRange<int>(0, 7) != 0 || call == kTwoStep;
    if (!want_per) out.fwd.per_sample_loss = nullptr;
    if (!want_mask) out.fwd.mask = nullptr;
    if (!want_state) out.fwd.saved_state = nullptr;
    // grad_ref_embeddings: required when ref embeddings are given and m > 0; with m = 0 any pointer
    // will do (and must not be written).
    static double dummy_output[1];
    if (refs_given && m == 0) out.grad.grad_ref_embeddings = dummy_output;
    bool forward_out_null = false, gradient_out_null = false;
    switch (f.ConsumeIntegralInRange<int>(0, 31)) {
        case 0:
            if (loss_len > 0 && reduction_valid) {
                out.fwd.loss = nullptr;
                faults.add(faults.forward_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "loss NULL");
            }
            break;
        case 1: out.fwd.struct_size = f.PickValueInArray<uint32_t>({0, 16, 1000});
                faults.add(faults.forward_out, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "forward_output->struct_size"); break;
        case 2: out.fwd.reserved0 = 3;
                faults.add(faults.forward_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "forward_output->reserved0"); break;
        case 3: forward_out_null = true;
                faults.add(faults.forward_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "forward output NULL"); break;
        case 4:
            if (n > 0) {
                out.grad.grad_embeddings = nullptr;
                faults.add(faults.gradient_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "grad_embeddings NULL");
            }
            break;
        case 5:
            if (!refs_given) {
                out.grad.grad_ref_embeddings = dummy_output;
                faults.add(faults.gradient_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "grad_ref_embeddings without refs");
            } else if (m > 0) {
                out.grad.grad_ref_embeddings = nullptr;
                faults.add(faults.gradient_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "grad_ref_embeddings NULL");
            }
            break;
        case 6: out.grad.struct_size = f.PickValueInArray<uint32_t>({0, 8, 1000});
                faults.add(faults.gradient_out, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "gradient_output->struct_size"); break;
        case 7: out.grad.reserved0 = -1;
                faults.add(faults.gradient_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gradient_output->reserved0"); break;
        case 8: gradient_out_null = true;
                faults.add(faults.gradient_out, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gradient output NULL"); break;
        default: break;
    }

    // A fabricated saved state for kBackwardFabricated.
    std::vector<T> fabricated;
    bool state_null = false, fabricated_state = false;
    if (call == kBackwardFabricated) {
        fabricated.resize(2 * n);
        for (auto& v : fabricated) {
            const int k = f.ConsumeIntegralInRange<int>(0, 7);
            v = k == 0 ? -std::numeric_limits<T>::infinity() : k == 1 ? finite_special<T>(f) : small_value<T>(f) * T(64);
        }
        fabricated_state = true;  // not written by forward: no promise about the gradient values
        if (!fabricated.empty()) {
            const int fault = f.ConsumeIntegralInRange<int>(0, 7);
            if (fault == 0) {
                fabricated[f.ConsumeIntegralInRange<size_t>(0, fabricated.size() - 1)] =
                    f.ConsumeBool() ? std::numeric_limits<T>::quiet_NaN() : std::numeric_limits<T>::infinity();
                faults.add(faults.state, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "saved_state NaN or +inf");
            } else if (fault == 1) {
                state_null = true;
                faults.add(faults.state, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "saved_state NULL");
            }
        }
    }

    // The labels as int64 (CIRCLELOSS_LABELS_INT64) with distinct high halves and a common low half, so
    // that comparing 32 bits would be wrong. Decided last, so that inputs written before this choice
    // existed decode exactly as before (and keep int32 labels: an exhausted input reads 0).
    std::vector<int64_t> labels64, ref_labels64;
    static const int64_t kDummyLabel64 = 0;
    const bool wide_labels = f.ConsumeIntegralInRange<int>(0, 3) == 1 && raw(p.label_type) == CIRCLELOSS_LABELS_INT32;
    if (wide_labels) {
        for (int32_t v : labels) labels64.push_back(static_cast<int64_t>((uint64_t{static_cast<uint32_t>(v)} << 32) | 7));
        for (int32_t v : ref_labels) ref_labels64.push_back(static_cast<int64_t>((uint64_t{static_cast<uint32_t>(v)} << 32) | 7));
        p.label_type = CIRCLELOSS_LABELS_INT64;
        if (p.labels) p.labels = labels64.empty() ? static_cast<const void*>(&kDummyLabel64) : labels64.data();
        if (p.ref_labels) p.ref_labels = ref_labels64.empty() ? static_cast<const void*>(&kDummyLabel64) : ref_labels64.data();
    }

    g_describe = [&]() {
        std::string t = format_message("case: %s%s session=%d call=%d n=%" PRId64 " d=%" PRId64 " m=%" PRId64
                                       " ref_mode=%d gamma=%.17g margin=%.17g remove_diagonal=%d reduction=%d mode=%d"
                                       " weights=%d upstream=%zu faults=[%s]\n",
                                       sizeof(T) == 4 ? "float32" : "float64", wide_labels ? " int64-labels" : "", session_index, static_cast<int>(call), s.n,
                                       s.d, s.m, ref_mode, o.gamma, o.margin, o.remove_diagonal, reduction,
                                       raw(o.gradient_mode), weights_given ? 1 : 0, up.size(), faults.notes.c_str());
        auto list = [&](const char* name, auto const& v) {
            t += name;
            t += ":";
            for (auto e : v) t += format_message(" %.9g", static_cast<double>(e));
            t += "\n";
        };
        list("labels", labels);
        list("ref_labels", ref_labels);
        list("x", x);
        list("r", r);
        list("w", w);
        list("upstream", up);
        list("fabricated_state", fabricated);
        return t;
    };
    const circleloss_options* op = options_null ? nullptr : &o;
    const circleloss_problem* pp = problem_null ? nullptr : &p;
    const circleloss_forward_output* fo = forward_out_null ? nullptr : &out.fwd;
    const circleloss_gradient_output* go = gradient_out_null ? nullptr : &out.grad;
    const bool sane = !extreme && !fabricated_state;
    // What a successful call must produce: finite values for every finite input the library accepts
    // (it refuses, with INVALID_ARGUMENT "too large for", values whose logits, loss or gradients
    // could overflow), unless CIRCLELOSS_FUZZ_ALLOW_EXTREME_NAN=1 relaxes that for extreme inputs;
    // anything for a fabricated saved state.
    const Expect expect_values = fabricated_state                 ? Expect::Anything
                                 : (sane || !g_allow_extreme_nan) ? Expect::Finite
                                                                  : Expect::Anything;

    auto check_status = [&](circleloss_status status, StatusSet expected, const char* what) {
        const std::string message = circleloss_last_error();
        // Extreme but finite values: the library's documented refusal of what could overflow. The options
        // are checked before the value scans, so this refusal may also come first when faults were injected.
        const bool too_large_ok = !sane && status == CIRCLELOSS_STATUS_INVALID_ARGUMENT &&
                                  message.find("too large for") != std::string::npos;
        if (expected == 0) {
            const bool oom_ok = may_run_out_of_memory(session_index) && status == CIRCLELOSS_STATUS_OUT_OF_MEMORY;
            CHECK(status == CIRCLELOSS_STATUS_OK || oom_ok || too_large_ok, "%s: valid call (session %d, n=%" PRId64 " d=%" PRId64
                  " m=%" PRId64 ") returned %s: %s", what, session_index, s.n, s.d, s.m,
                  circleloss_status_name(status), message.c_str());
        } else {
            CHECK((bit(status) & expected) != 0 || too_large_ok, "%s: expected %s for [%s] but got %s: %s", what,
                  status_list(expected).c_str(), faults.notes.c_str(), circleloss_status_name(status), message.c_str());
        }
        const std::string argument = circleloss_last_error_argument();
        CHECK(message.rfind(argument, 0) == 0, "%s: message '%s' does not begin with its argument '%s'", what,
              message.c_str(), argument.c_str());
        if (status == CIRCLELOSS_STATUS_OK) {
            CHECK(message.empty(), "%s: OK but last_error is '%s'", what, message.c_str());
            CHECK(argument.empty(), "%s: OK but last_error_argument is '%s'", what, argument.c_str());
        } else {
            CHECK(!message.empty(), "%s: %s without a message", what, circleloss_status_name(status));
            CHECK(std::strcmp(circleloss_status_name(status), "UNKNOWN") != 0, "%s: undocumented status %d", what,
                  static_cast<int>(status));
        }
    };

    auto check_forward_ok = [&](const Outputs<T>& o2) {
        check_values(o2.loss, true, expect_values, false, "loss", faults.notes);
        check_values(o2.per, want_per, expect_values, false, "per_sample_loss", faults.notes);
        check_values(o2.state, want_state, expect_values, true, "saved_state", faults.notes);
        if (want_mask) {
            for (size_t i = 0; i < n; ++i) CHECK(o2.mask[i] <= 1, "mask[%zu] = %d", i, o2.mask[i]);
        } else {
            CHECK(untouched(o2.mask), "mask written although NULL");
        }
        if (want_per) {
            for (size_t i = 0; i < n; ++i) {
                CHECK(!(o2.per[i] < 0), "per_sample_loss[%zu] = %g < 0", i, static_cast<double>(o2.per[i]));
                if (want_mask) CHECK(o2.mask[i] == (o2.per[i] > 0 ? 1 : 0), "mask[%zu] disagrees with per-sample loss", i);
            }
            if (reduction_none) {
                for (size_t i = 0; i < n; ++i) {
                    const T wi = weights_given ? w[i] : T(1);
                    const T expect = wi * o2.per[i];
                    CHECK(std::memcmp(&expect, &o2.loss[i], sizeof(T)) == 0 || (std::isnan(expect) && std::isnan(o2.loss[i])),
                          "loss[%zu] = %g is not w * l = %g", i, static_cast<double>(o2.loss[i]), static_cast<double>(expect));
                }
            } else if (sane) {
                double total = 0, count = 0, wsum = 0, magnitude = 0;
                for (size_t i = 0; i < n; ++i) {
                    if (!(o2.per[i] > 0)) continue;
                    const double wi = weights_given ? static_cast<double>(w[i]) : 1.0;
                    // The library sums w_i * l_i in double (exact products even for tiny weights).
                    const double term = wi * static_cast<double>(o2.per[i]);
                    total += term;
                    magnitude += std::fabs(term);
                    count += 1;
                    wsum += wi;
                }
                double divisor = 1;
                if (reduction == CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE || reduction == CIRCLELOSS_REDUCTION_MEAN) divisor = count;
                if (reduction == CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT) divisor = wsum;
                const double expect = divisor == 0 ? 0.0 : total / divisor;
                const double tol = 1e-5 * (divisor == 0 ? 1.0 : magnitude / divisor) + 1e-30;
                CHECK(std::fabs(static_cast<double>(o2.loss[0]) - expect) <= tol, "reduced loss %.9g, expected %.9g",
                      static_cast<double>(o2.loss[0]), expect);
            }
        }
    };
    auto check_gradients_ok = [&](const Outputs<T>& o2) {
        check_values(o2.gx, true, expect_values, false, "grad_embeddings", faults.notes);
        check_values(o2.gr, refs_given, expect_values, false, "grad_ref_embeddings", faults.notes);
    };
    auto all_untouched = [&](const Outputs<T>& o2, bool forward_too) {
        if (forward_too) {
            CHECK(untouched(o2.loss) && untouched(o2.per) && untouched(o2.state) && untouched(o2.mask),
                  "a failed call wrote forward outputs [%s]", faults.notes.c_str());
        }
        CHECK(untouched(o2.gx) && untouched(o2.gr), "a failed call wrote gradient outputs [%s]", faults.notes.c_str());
    };
    auto same_bits = [](const std::vector<T>& a, const std::vector<T>& b) {
        return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
    };
    // The same call on a session of the same plan with another thread count must give bitwise
    // identical outputs.
    auto other_session = [&]() -> circleloss_session* {
        const int peer = same_group_peer(session_index);
        return session == nullptr || peer < 0 ? nullptr : g_sessions[peer];
    };
    auto fresh_copy = [&](Outputs<T>& o2) {
        o2.allocate(out.loss.size(), n, out.gx.size(), out.gr.size());
        o2.fwd.per_sample_loss = out.fwd.per_sample_loss ? o2.per.data() : nullptr;
        o2.fwd.mask = out.fwd.mask ? o2.mask.data() : nullptr;
        o2.fwd.saved_state = out.fwd.saved_state ? o2.state.data() : nullptr;
        if (out.grad.grad_ref_embeddings == dummy_output) o2.grad.grad_ref_embeddings = dummy_output;
    };

    const StatusSet forward_faults = faults.common | faults.options | faults.forward_out;
    const StatusSet backward_faults = faults.common | faults.options | faults.upstream | faults.gradient_out;
    switch (call) {
        case kForward: {
            const circleloss_status st = circleloss_forward(fo, session, op, pp);
            check_status(st, forward_faults, "forward");
            if (st != CIRCLELOSS_STATUS_OK) {
                all_untouched(out, true);
                break;
            }
            check_forward_ok(out);
            all_untouched(out, false);
            if (circleloss_session* other = other_session()) {
                Outputs<T> o2;
                fresh_copy(o2);
                CHECK(circleloss_forward(&o2.fwd, other, op, pp) == CIRCLELOSS_STATUS_OK, "forward on another session: %s", circleloss_last_error());
                CHECK(same_bits(out.loss, o2.loss) && same_bits(out.per, o2.per) && same_bits(out.state, o2.state) && out.mask == o2.mask,
                      "forward outputs depend on the session's thread count");
            }
            break;
        }
        case kForwardBackward: {
            const circleloss_status st = circleloss_forward_backward(fo, go, session, op, pp);
            check_status(st, forward_faults | backward_faults, "forward_backward");
            if (st != CIRCLELOSS_STATUS_OK) {
                all_untouched(out, true);
                break;
            }
            check_forward_ok(out);
            check_gradients_ok(out);
            if (circleloss_session* other = other_session()) {
                Outputs<T> o2;
                fresh_copy(o2);
                CHECK(circleloss_forward_backward(&o2.fwd, &o2.grad, other, op, pp) == CIRCLELOSS_STATUS_OK,
                      "forward_backward on another session: %s", circleloss_last_error());
                CHECK(same_bits(out.loss, o2.loss) && same_bits(out.per, o2.per) && same_bits(out.state, o2.state) &&
                          out.mask == o2.mask && same_bits(out.gx, o2.gx) && same_bits(out.gr, o2.gr),
                      "forward_backward outputs depend on the session's thread count");
            }
            break;
        }
        case kTwoStep: {
            const circleloss_status st = circleloss_forward(fo, session, op, pp);
            check_status(st, forward_faults, "forward (two-step)");
            if (st != CIRCLELOSS_STATUS_OK) {
                all_untouched(out, true);
                break;
            }
            check_forward_ok(out);
            if (g_allow_extreme_nan && !sane) {
                bool bad_state = false;
                for (T v : out.state) bad_state |= std::isnan(v) || (std::isinf(v) && v > 0);
                if (bad_state) break;  // backward refuses such a state (INVALID_ARGUMENT), by design
            }
            const circleloss_status st2 = circleloss_backward(go, session, op, pp, out.state.empty() ? nullptr : out.state.data());
            check_status(st2, backward_faults, "backward (two-step)");
            if (st2 != CIRCLELOSS_STATUS_OK) {
                all_untouched(out, false);
                break;
            }
            check_gradients_ok(out);
            if (!may_run_out_of_memory(session_index)) {
                Outputs<T> o2;
                fresh_copy(o2);
                CHECK(circleloss_forward_backward(&o2.fwd, &o2.grad, session, op, pp) == CIRCLELOSS_STATUS_OK,
                      "forward_backward after two-step: %s", circleloss_last_error());
                CHECK(same_bits(out.loss, o2.loss) && same_bits(out.state, o2.state),
                      "forward and forward_backward disagree on the forward outputs");
                CHECK(same_bits(out.gx, o2.gx) && same_bits(out.gr, o2.gr),
                      "backward from the saved state and forward_backward give different gradients");
            }
            break;
        }
        case kBackwardFabricated: {
            const void* state = state_null ? nullptr : (fabricated.empty() ? nullptr : fabricated.data());
            const circleloss_status st = circleloss_backward(go, session, op, pp, state);
            check_status(st, backward_faults | faults.state, "backward (fabricated state)");
            if (st != CIRCLELOSS_STATUS_OK) {
                all_untouched(out, true);
                break;
            }
            check_gradients_ok(out);
            CHECK(untouched(out.loss) && untouched(out.per) && untouched(out.state) && untouched(out.mask),
                  "backward wrote forward outputs");
            break;
        }
        case kProductFloor: {
            double seconds = -1;
            const bool out_null = f.ConsumeIntegralInRange<int>(0, 15) == 0;
            StatusSet expected = faults.common;
            if (out_null) expected |= bit(CIRCLELOSS_STATUS_INVALID_ARGUMENT);
            const circleloss_status st = circleloss_measure_product_floor(out_null ? nullptr : &seconds, session, pp);
            check_status(st, expected, "measure_product_floor");
            if (st == CIRCLELOSS_STATUS_OK) {
                CHECK(std::isfinite(seconds) && seconds >= 0, "product floor %g", seconds);
            } else if (!out_null) {
                CHECK(seconds == -1, "a failed measure_product_floor wrote its output");
            }
            break;
        }
    }
    if (g_print_cases) std::fputs(g_describe().c_str(), stderr);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* allow = std::getenv("CIRCLELOSS_FUZZ_ALLOW_EXTREME_NAN");
    g_allow_extreme_nan = allow && std::strcmp(allow, "1") == 0;
    const char* print = std::getenv("CIRCLELOSS_FUZZ_PRINT_CASES");
    g_print_cases = print && std::strcmp(print, "1") == 0;
    create_sessions();
    // The sessions stay alive until the process ends (reachable from g_sessions, so no leak report).
    // They are not destroyed from an atexit handler: by then the main thread's thread_local objects
    // are gone, and the library's thread-local last-error string with them (see LifetimeTests).
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider f(data, size);
    const int dtype = f.ConsumeIntegralInRange<int>(0, 40);
    if (dtype < 20) {
        run_typed<float>(f, CIRCLELOSS_DTYPE_FLOAT32, true);
    } else if (dtype < 40) {
        run_typed<double>(f, CIRCLELOSS_DTYPE_FLOAT64, true);
    } else {
        // An unknown dtype: buffers sized for float64 (the larger); the call must be refused.
        run_typed<double>(f, f.PickValueInArray<int32_t>({2, -1, 1000}), false);
    }
    return 0;
}
