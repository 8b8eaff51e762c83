// GPU check of the CUDA provider through the public C ABI only (circleloss/circleloss.h).
//
//   gpu_check <golden-dir> [--quick] [--bench] [--dump <dir>] [--report <file.md>]
//
// 1. Every golden case (float32 and float64, host and device memory, both gradient modes, forward +
//    backward in one call and in two) against the expected float64 values, and against the CPU backend.
// 2. Random cases of irregular sizes (257, 1000, 4097, M over one tile, a small workspace that forces
//    many tiles) against the CPU backend; bitwise determinism run after run; the value checks on device
//    memory; OUT_OF_MEMORY when the workspace limit is too small; a batch computed in unequal parts with
//    diagonal_offset, reduction_divisor and reduction_terms (batch_part_check.cpp) against the whole.
// 3. --bench: forward and forward+backward timings for N=M=8192, D=512 and N=4096, M=262144, D=128
//    (device memory, float32, with and without TF32), inputs and outputs dumped for torch_reference.py.
// Exit status 0 only when every check passed. --quick runs a reduced set (for compute-sanitizer).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "circleloss/circleloss.h"
#include "golden_cases.h"  // native/tests: the golden-case reader the native tests use

namespace {

using golden::Case;
using golden::Expected;

// ---- problems and results in float64 ---------------------------------------------------------------

struct Outputs {
    circleloss_status status = CIRCLELOSS_STATUS_OK;
    std::string message;
    std::vector<double> loss, per_sample, state, dx, dr;
    std::vector<int> mask;
};


// ---- running the library ---------------------------------------------------------------------------
bool g_failed = false;
bool g_cpu_only = false;  // --cpu-self-test: the harness itself, with the CPU backend in the GPU's place
int g_checks = 0;
FILE* g_log = stdout;

void check(bool ok, const std::string& what) {
    ++g_checks;
    if (!ok) {
        g_failed = true;
        std::fprintf(g_log, "FAIL %s\n", what.c_str());
        if (g_log != stdout) std::printf("FAIL %s\n", what.c_str());
    }
}

#define CL_CHECK(call)                                                                                     \
    do {                                                                                                   \
        const circleloss_status st_ = (call);                                                              \
        if (st_ != CIRCLELOSS_STATUS_OK) {                                                                 \
            std::fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, circleloss_status_name(st_), \
                         circleloss_last_error());                                                         \
            std::exit(3);                                                                                  \
        }                                                                                                  \
    } while (0)

struct Session {
    circleloss_session* s = nullptr;
    Session(circleloss_backend backend, uint64_t workspace = 0, uint32_t flags = 0) {
        circleloss_session_config cfg;
        CL_CHECK(circleloss_session_config_init(&cfg));
        cfg.backend = backend;
        cfg.workspace_limit_bytes = workspace;
        cfg.flags = flags;
        CL_CHECK(circleloss_session_create(&s, &cfg));
    }
    ~Session() { circleloss_session_destroy(s); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
};

// Host or device storage of one array in the problem's dtype.
class Array {
  public:
    Array(circleloss_session* s, circleloss_memory mem, circleloss_dtype dt, size_t count, size_t element_size = 0)
        : s_(s), mem_(mem), count_(count) {
        elem_ = element_size ? element_size : (dt == CIRCLELOSS_DTYPE_FLOAT64 ? 8 : 4);
        dtype_ = dt;
        host_.assign(std::max<size_t>(1, count * elem_), 0xA5);  // poison
        if (mem_ == CIRCLELOSS_MEMORY_DEVICE) {
            CL_CHECK(circleloss_device_alloc(&device_, s_, host_.size()));
            upload();
        }
    }
    ~Array() {
        if (device_) circleloss_device_free(s_, device_);
    }
    Array(const Array&) = delete;
    Array& operator=(const Array&) = delete;

    void* ptr() { return mem_ == CIRCLELOSS_MEMORY_DEVICE ? device_ : static_cast<void*>(host_.data()); }
    void set(const std::vector<double>& v) {
        for (size_t i = 0; i < v.size() && i < count_; ++i) {
            if (dtype_ == CIRCLELOSS_DTYPE_FLOAT64) {
                std::memcpy(host_.data() + i * 8, &v[i], 8);
            } else {
                const float f = static_cast<float>(v[i]);
                std::memcpy(host_.data() + i * 4, &f, 4);
            }
        }
        upload();
    }
    void set_raw(const void* p, size_t bytes) {
        std::memcpy(host_.data(), p, bytes);
        upload();
    }
    std::vector<double> get() {
        download();
        std::vector<double> v(count_);
        for (size_t i = 0; i < count_; ++i) {
            if (dtype_ == CIRCLELOSS_DTYPE_FLOAT64) {
                std::memcpy(&v[i], host_.data() + i * 8, 8);
            } else {
                float f;
                std::memcpy(&f, host_.data() + i * 4, 4);
                v[i] = f;
            }
        }
        return v;
    }
    std::vector<unsigned char> bytes() {
        download();
        return std::vector<unsigned char>(host_.begin(), host_.begin() + static_cast<long>(count_ * elem_));
    }

  private:
    void upload() {
        if (mem_ == CIRCLELOSS_MEMORY_DEVICE)
            CL_CHECK(circleloss_device_copy(s_, device_, host_.data(), host_.size(), CIRCLELOSS_COPY_HOST_TO_DEVICE));
    }
    void download() {
        if (mem_ == CIRCLELOSS_MEMORY_DEVICE)
            CL_CHECK(circleloss_device_copy(s_, host_.data(), device_, host_.size(), CIRCLELOSS_COPY_DEVICE_TO_HOST));
    }
    circleloss_session* s_;
    circleloss_memory mem_;
    circleloss_dtype dtype_ = CIRCLELOSS_DTYPE_FLOAT32;
    size_t count_;
    size_t elem_;
    std::vector<unsigned char> host_;
    void* device_ = nullptr;
};


enum class Call { kForwardBackward, kSplit, kForward };

struct RunConfig {
    circleloss_dtype dtype = CIRCLELOSS_DTYPE_FLOAT32;
    circleloss_memory memory = CIRCLELOSS_MEMORY_HOST;
    circleloss_gradient_mode mode = CIRCLELOSS_GRADIENT_KERAS;
    Call call = Call::kForwardBackward;
    // Value corruption for the device-side checks: index into x set to NaN, or weight set negative.
    int64_t nan_at = -1;
    int64_t negative_weight_at = -1;
    bool int64_labels = false;  // labels as int64 ((v << 32) | 7: only the high halves differ)
};

// Raw bytes of every output (for determinism checks) plus converted values.
struct RawOutputs {
    std::vector<unsigned char> loss, dx, dr, state;
};

Outputs run(circleloss_session* s, const Case& c, const RunConfig& rc, RawOutputs* raw = nullptr) {
    const circleloss_dtype dt = rc.dtype;
    const circleloss_memory mem = rc.memory;
    Array x(s, mem, dt, static_cast<size_t>(c.n * c.d));
    x.set(c.x);
    if (rc.nan_at >= 0) {
        std::vector<double> bad = c.x;
        bad[static_cast<size_t>(rc.nan_at)] = NAN;
        x.set(bad);
    }
    auto wide = [](const std::vector<int32_t>& v) {
        std::vector<int64_t> w;
        for (int32_t l : v) w.push_back(static_cast<int64_t>((uint64_t{static_cast<uint32_t>(l)} << 32) | 7));
        return w;
    };
    const std::vector<int64_t> y64 = wide(c.labels), ry64 = wide(c.ref_labels);
    const size_t label_bytes = rc.int64_labels ? 8 : 4;
    Array y(s, mem, dt, static_cast<size_t>(c.n), label_bytes);
    if (rc.int64_labels) y.set_raw(y64.data(), y64.size() * 8);
    else y.set_raw(c.labels.data(), c.labels.size() * 4);
    Array r(s, mem, dt, c.has_ref_embeddings ? static_cast<size_t>(c.m * c.d) : 0);
    if (c.has_ref_embeddings) r.set(c.r);
    Array ry(s, mem, dt, c.has_ref_labels ? static_cast<size_t>(c.m) : 0, label_bytes);
    if (c.has_ref_labels && rc.int64_labels) ry.set_raw(ry64.data(), ry64.size() * 8);
    else if (c.has_ref_labels) ry.set_raw(c.ref_labels.data(), c.ref_labels.size() * 4);
    Array w(s, mem, dt, c.weights.size());
    if (!c.weights.empty()) {
        std::vector<double> ww = c.weights;
        if (rc.negative_weight_at >= 0) ww[static_cast<size_t>(rc.negative_weight_at)] = -1;
        w.set(ww);
    }
    Array up(s, mem, dt, c.upstream.size());
    if (!c.upstream.empty()) up.set(c.upstream);

    const size_t loss_len = c.reduction == CIRCLELOSS_REDUCTION_NONE ? static_cast<size_t>(c.n) : 1;
    Array loss(s, mem, dt, loss_len);
    Array per_sample(s, mem, dt, static_cast<size_t>(c.n));
    Array mask(s, mem, dt, static_cast<size_t>(c.n), 1);
    Array state(s, mem, dt, static_cast<size_t>(2 * c.n));
    Array dx(s, mem, dt, static_cast<size_t>(c.n * c.d));
    Array dr(s, mem, dt, c.has_ref_embeddings ? static_cast<size_t>(c.m * c.d) : 0);

    circleloss_options o;
    CL_CHECK(circleloss_options_init(&o));
    o.gamma = c.gamma;
    o.margin = c.margin;
    o.remove_diagonal = c.remove_diagonal ? 1 : 0;
    o.reduction = c.reduction;
    o.gradient_mode = rc.mode;

    circleloss_problem p;
    CL_CHECK(circleloss_problem_init(&p));
    p.dtype = dt;
    p.memory = mem;
    p.n = c.n;
    p.d = c.d;
    p.m = (c.has_ref_embeddings || c.has_ref_labels) ? c.m : 0;
    p.label_type = rc.int64_labels ? CIRCLELOSS_LABELS_INT64 : CIRCLELOSS_LABELS_INT32;
    p.labels = y.ptr();
    p.embeddings = x.ptr();
    p.ref_labels = c.has_ref_labels ? ry.ptr() : nullptr;
    p.ref_embeddings = c.has_ref_embeddings ? r.ptr() : nullptr;
    p.sample_weights = c.weights.empty() ? nullptr : w.ptr();
    p.upstream = c.upstream.empty() ? nullptr : up.ptr();

    circleloss_forward_output fo;
    CL_CHECK(circleloss_forward_output_init(&fo));
    fo.loss = loss.ptr();
    fo.per_sample_loss = per_sample.ptr();
    fo.mask = static_cast<uint8_t*>(mask.ptr());
    fo.saved_state = state.ptr();
    circleloss_gradient_output go;
    CL_CHECK(circleloss_gradient_output_init(&go));
    go.grad_embeddings = dx.ptr();
    go.grad_ref_embeddings = c.has_ref_embeddings ? dr.ptr() : nullptr;

    Outputs out;
    if (rc.call == Call::kForwardBackward) {
        out.status = circleloss_forward_backward(&fo, &go, s, &o, &p);
    } else {
        out.status = circleloss_forward(&fo, s, &o, &p);
        if (out.status == CIRCLELOSS_STATUS_OK && rc.call == Call::kSplit) {
            out.status = circleloss_backward(&go, s, &o, &p, state.ptr());
        }
    }
    if (out.status != CIRCLELOSS_STATUS_OK) {
        out.message = circleloss_last_error();
        return out;
    }
    out.loss = loss.get();
    out.per_sample = per_sample.get();
    out.state = state.get();
    for (unsigned char b : mask.bytes()) out.mask.push_back(b);
    if (rc.call != Call::kForward) {
        out.dx = dx.get();
        if (c.has_ref_embeddings) out.dr = dr.get();
    }
    if (raw) {
        raw->loss = loss.bytes();
        raw->state = state.bytes();
        if (rc.call != Call::kForward) {
            raw->dx = dx.bytes();
            if (c.has_ref_embeddings) raw->dr = dr.bytes();
        }
    }
    return out;
}

double normwise(const std::vector<double>& a, const std::vector<double>& ref) {
    if (a.size() != ref.size()) return INFINITY;
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) != std::isnan(ref[i])) return INFINITY;
        diff = std::max(diff, std::fabs(a[i] - ref[i]));
        scale = std::max(scale, std::fabs(ref[i]));
    }
    if (scale == 0) return diff;
    return diff / scale;
}

struct Tolerance {
    double loss, grad;
};

Tolerance tolerance_for(circleloss_dtype dt) {
    return dt == CIRCLELOSS_DTYPE_FLOAT64 ? Tolerance{1e-9, 1e-8} : Tolerance{5e-5, 5e-4};
}

const char* dtype_name(circleloss_dtype d) { return d == CIRCLELOSS_DTYPE_FLOAT64 ? "f64" : "f32"; }
const char* memory_name(circleloss_memory m) { return m == CIRCLELOSS_MEMORY_DEVICE ? "device" : "host"; }
const char* mode_name(circleloss_gradient_mode m) { return m == CIRCLELOSS_GRADIENT_PAPER ? "paper" : "keras"; }
const char* call_name(Call c) {
    return c == Call::kForwardBackward ? "fwd+bwd" : c == Call::kSplit ? "fwd,bwd" : "fwd";
}

double g_worst_loss[2] = {0, 0}, g_worst_grad[2] = {0, 0};

// Compares `a` against a reference (golden float64 or the CPU backend); returns the worst errors.
void compare(const std::string& label, const Outputs& a, const std::vector<double>& loss,
             const std::vector<double>& per_sample, const std::vector<int>* mask, const std::vector<double>& dx,
             const std::vector<double>& dr, circleloss_dtype dt, bool gradients) {
    if (a.status != CIRCLELOSS_STATUS_OK) {
        check(false, label + ": " + circleloss_status_name(a.status) + ": " + a.message);
        return;
    }
    const Tolerance tol = tolerance_for(dt);
    const int k = dt == CIRCLELOSS_DTYPE_FLOAT64 ? 1 : 0;
    const double e_loss = std::max(normwise(a.loss, loss), normwise(a.per_sample, per_sample));
    g_worst_loss[k] = std::max(g_worst_loss[k], e_loss);
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s: loss error %.3g (tolerance %.1g)", label.c_str(), e_loss, tol.loss);
    check(e_loss <= tol.loss, buf);
    if (mask) {
        bool same = a.mask.size() == mask->size();
        for (size_t i = 0; same && i < mask->size(); ++i) same = a.mask[i] == (*mask)[i];
        check(same, label + ": mask differs");
    }
    if (gradients) {
        const double e_grad = std::max(normwise(a.dx, dx), dr.empty() ? 0.0 : normwise(a.dr, dr));
        g_worst_grad[k] = std::max(g_worst_grad[k], e_grad);
        std::snprintf(buf, sizeof buf, "%s: gradient error %.3g (tolerance %.1g)", label.c_str(), e_grad, tol.grad);
        check(e_grad <= tol.grad, buf);
    }
}

// ---- golden cases ----------------------------------------------------------------------------------
int run_golden(const std::string& dir, bool quick, circleloss_session* gpu, circleloss_session* cpu) {
    const std::vector<std::string> files = golden::golden_files(dir);
    int runs = 0;
    for (const std::string& file : files) {
        const golden::Json root = golden::load_json_file(file);
        const Case c = golden::golden_case(root);
        const Expected expected[2] = {golden::golden_expected(root, "keras"), golden::golden_expected(root, "paper")};
        for (int mode_index = 0; mode_index < 2; ++mode_index) {
            if (!expected[mode_index].present) continue;
            const Expected& e = expected[mode_index];
            for (circleloss_dtype dt : {CIRCLELOSS_DTYPE_FLOAT32, CIRCLELOSS_DTYPE_FLOAT64}) {
                for (circleloss_memory mem : {CIRCLELOSS_MEMORY_HOST, CIRCLELOSS_MEMORY_DEVICE}) {
                    if (g_cpu_only && mem == CIRCLELOSS_MEMORY_DEVICE) continue;
                    for (Call call : {Call::kForwardBackward, Call::kSplit}) {
                        if (quick && (mem == CIRCLELOSS_MEMORY_HOST || call == Call::kSplit)) continue;
                        RunConfig rc;
                        rc.dtype = dt;
                        rc.memory = mem;
                        rc.mode = mode_index == 0 ? CIRCLELOSS_GRADIENT_KERAS : CIRCLELOSS_GRADIENT_PAPER;
                        rc.call = call;
                        const Outputs g = run(gpu, c, rc);
                        const std::string label = c.name + " " + dtype_name(dt) + " " + memory_name(mem) + " " +
                                                  mode_name(rc.mode) + " " + call_name(call);
                        compare(label + " vs golden", g, e.loss, e.per_sample_loss, dt == CIRCLELOSS_DTYPE_FLOAT64 ? &e.mask : nullptr,
                                e.grad_x, e.grad_r, dt, true);
                        ++runs;
                        if (mem == CIRCLELOSS_MEMORY_HOST && call == Call::kForwardBackward) {
                            const Outputs h = run(cpu, c, rc);
                            compare(label + " vs CPU", g, h.loss, h.per_sample, &h.mask, h.dx, h.dr, dt, true);
                        }
                        if (call == Call::kForwardBackward) {
                            // The same with int64 labels (circleloss_label_type INT64).
                            RunConfig wide = rc;
                            wide.int64_labels = true;
                            const Outputs g64 = run(gpu, c, wide);
                            compare(label + " int64 labels vs golden", g64, e.loss, e.per_sample_loss,
                                    dt == CIRCLELOSS_DTYPE_FLOAT64 ? &e.mask : nullptr, e.grad_x, e.grad_r, dt, true);
                            ++runs;
                        }
                    }
                }
            }
        }
    }
    std::fprintf(g_log, "golden: %zu files, %d GPU runs\n", files.size(), runs);
    return static_cast<int>(files.size());
}

// ---- random cases ----------------------------------------------------------------------------------
// Rows of norm `norm` (1: unit). With reference labels alone the diagonal pair (i, i) can be a negative;
// at unit norm its similarity sits on the kink of max(1 - s, 0), where the gradient jumps (2γs for
// s < 1, 0 for s >= 1) and the last bit of <x_i, x_i> decides: such cases use norm 0.9, like the
// golden `norm09` cases.
Case random_case(std::mt19937_64& rng, const std::string& name, int64_t n, int64_t m, int64_t d, int classes,
                 bool refs, bool ref_labels_only, bool weights, circleloss_reduction red, int remove_diagonal,
                 double norm = 1.0) {
    Case c;
    c.name = name;
    c.n = n;
    c.d = d;
    c.m = refs || ref_labels_only ? m : n;
    c.remove_diagonal = remove_diagonal != 0;
    c.reduction = red;
    std::normal_distribution<double> normal;
    std::uniform_int_distribution<int> label(0, classes - 1);
    std::uniform_real_distribution<double> uniform(0.0, 2.0);
    const double row_norm = norm;
    auto unit_rows = [&](int64_t rows) {
        std::vector<double> v(static_cast<size_t>(rows * d));
        for (int64_t i = 0; i < rows; ++i) {
            double sum = 0;
            for (int64_t k = 0; k < d; ++k) {
                const double z = normal(rng);
                v[static_cast<size_t>(i * d + k)] = z;
                sum += z * z;
            }
            const double scale = row_norm / std::sqrt(sum);
            for (int64_t k = 0; k < d; ++k) v[static_cast<size_t>(i * d + k)] *= scale;
        }
        return v;
    };
    c.x = unit_rows(n);
    for (int64_t i = 0; i < n; ++i) c.labels.push_back(label(rng));
    if (refs) {
        c.has_ref_embeddings = true;
        c.has_ref_labels = true;
        c.r = unit_rows(m);
        for (int64_t j = 0; j < m; ++j) c.ref_labels.push_back(label(rng));
    } else if (ref_labels_only) {
        c.has_ref_labels = true;
        for (int64_t j = 0; j < n; ++j) c.ref_labels.push_back(label(rng));
    }
    if (weights) {
        for (int64_t i = 0; i < n; ++i) c.weights.push_back(uniform(rng));
    }
    if (red == CIRCLELOSS_REDUCTION_NONE) {
        for (int64_t i = 0; i < n; ++i) c.upstream.push_back(uniform(rng) - 1.0);
    } else if (weights) {
        c.upstream.push_back(0.75);
    }
    return c;
}

void run_random(bool quick, circleloss_session* gpu, circleloss_session* cpu) {
    std::mt19937_64 rng(20261128);
    struct Spec {
        const char* name;
        int64_t n, m, d;
        int classes;
        bool refs, ref_labels_only, weights;
        circleloss_reduction red;
        int remove_diagonal;
        uint64_t workspace;  // 0: default
    };
    const Spec specs[] = {
        {"self_257_d64", 257, 257, 64, 16, false, false, false, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, 1, 0},
        {"self_1000_d100_w_mws", 1000, 1000, 100, 40, false, false, true, CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT, 1, 0},
        {"self_4097_d32", 4097, 4097, 32, 100, false, false, false, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, 1, 0},
        {"self_4097_d32_ws2M", 4097, 4097, 32, 100, false, false, false, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, 1, 2u << 20},
        {"reflabels_1000_d48_none_norm09", 1000, 1000, 48, 30, false, true, false, CIRCLELOSS_REDUCTION_NONE, 1, 0},
        {"refs_1000_m5000_d48", 1000, 5000, 48, 50, true, false, false, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, 1, 0},
        {"refs_257_m9000_d33_w_sum", 257, 9000, 33, 20, true, false, true, CIRCLELOSS_REDUCTION_SUM, 0, 0},
        {"refs_4097_m1000_d128_ws1M", 4097, 1000, 128, 64, true, false, false, CIRCLELOSS_REDUCTION_MEAN, 1, 1u << 20},
        {"refs_300_m20000_d16_ws512K", 300, 20000, 16, 10, true, false, true, CIRCLELOSS_REDUCTION_NONE, 1, 512u << 10},
    };
    for (const Spec& sp : specs) {
        if (quick && sp.n * sp.m > 2000000) continue;
        const Case c = random_case(rng, sp.name, sp.n, sp.m, sp.d, sp.classes, sp.refs, sp.ref_labels_only, sp.weights,
                                   sp.red, sp.remove_diagonal, sp.ref_labels_only ? 0.9 : 1.0);
        // A session of its own when the case sets a small workspace limit (many tiles).
        std::unique_ptr<Session> small;
        if (sp.workspace && !g_cpu_only) {  // the CPU backend's own minimum differs
            small.reset(new Session(g_cpu_only ? CIRCLELOSS_BACKEND_CPU : CIRCLELOSS_BACKEND_CUDA, sp.workspace));
        }
        circleloss_session* g = small ? small->s : gpu;
        for (circleloss_dtype dt : {CIRCLELOSS_DTYPE_FLOAT32, CIRCLELOSS_DTYPE_FLOAT64}) {
            for (circleloss_gradient_mode mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER}) {
                if (quick && mode == CIRCLELOSS_GRADIENT_PAPER) continue;
                RunConfig rc;
                rc.dtype = dt;
                rc.mode = mode;
                rc.memory = g_cpu_only ? CIRCLELOSS_MEMORY_HOST : CIRCLELOSS_MEMORY_DEVICE;
                const Outputs ref = run(cpu, c, rc.memory == CIRCLELOSS_MEMORY_DEVICE ? RunConfig{dt, CIRCLELOSS_MEMORY_HOST, mode} : rc);
                RawOutputs raw1, raw2;
                const Outputs a = run(g, c, rc, &raw1);
                const std::string label = std::string(sp.name) + " " + dtype_name(dt) + " " + mode_name(mode);
                compare(label + " device fwd+bwd vs CPU", a, ref.loss, ref.per_sample, nullptr, ref.dx, ref.dr, dt, true);
                // Masks may differ only where l_i rounds to 0 in one backend and not the other: count.
                int mask_diff = 0;
                for (size_t i = 0; i < a.mask.size() && i < ref.mask.size(); ++i) mask_diff += a.mask[i] != ref.mask[i];
                check(mask_diff == 0, label + ": mask differs from CPU in " + std::to_string(mask_diff) + " rows");
                // Determinism: the same call again gives the same bits.
                (void)run(g, c, rc, &raw2);
                check(raw1.loss == raw2.loss && raw1.dx == raw2.dx && raw1.dr == raw2.dr && raw1.state == raw2.state,
                      label + ": not bitwise reproducible");
                if (!quick) {
                    RunConfig split = rc;
                    split.call = Call::kSplit;
                    split.memory = CIRCLELOSS_MEMORY_HOST;
                    const Outputs b = run(g, c, split);
                    compare(label + " host fwd,bwd vs CPU", b, ref.loss, ref.per_sample, nullptr, ref.dx, ref.dr, dt, true);
                }
            }
        }
        std::fprintf(g_log, "random %s done\n", sp.name);
        std::fflush(g_log);
    }
}

// ---- errors: device value checks and the workspace limit --------------------------------------------
void run_error_checks(circleloss_session* gpu) {
    std::mt19937_64 rng(7);
    const Case c = random_case(rng, "errors", 300, 300, 20, 10, false, false, true,
                               CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, 1);
    for (circleloss_dtype dt : {CIRCLELOSS_DTYPE_FLOAT32, CIRCLELOSS_DTYPE_FLOAT64}) {
        RunConfig rc;
        rc.dtype = dt;
        rc.memory = CIRCLELOSS_MEMORY_DEVICE;
        rc.nan_at = 123 * 20 + 7;
        Outputs o = run(gpu, c, rc);
        check(o.status == CIRCLELOSS_STATUS_NON_FINITE_INPUT && o.message.find("row 123, column 7") != std::string::npos,
              std::string("NaN in device embeddings: got ") + circleloss_status_name(o.status) + ": " + o.message);
        std::fprintf(g_log, "device NaN check (%s): %s: %s\n", dtype_name(dt), circleloss_status_name(o.status),
                     o.message.c_str());
        rc.nan_at = -1;
        rc.negative_weight_at = 42;
        o = run(gpu, c, rc);
        check(o.status == CIRCLELOSS_STATUS_INVALID_ARGUMENT && o.message.find("42") != std::string::npos,
              std::string("negative device weight: got ") + circleloss_status_name(o.status) + ": " + o.message);
    }
    {
        // Options valid as doubles but not in float32 (issue 12) are refused for device memory too.
        Case tiny_gamma = c;
        tiny_gamma.gamma = 4.9406564584124654e-324;
        RunConfig device;
        device.memory = CIRCLELOSS_MEMORY_DEVICE;
        const Outputs refused = run(gpu, tiny_gamma, device);
        check(refused.status == CIRCLELOSS_STATUS_INVALID_ARGUMENT &&
                  refused.message.find("options->gamma (4.9406564584124654e-324) is zero in float32") != std::string::npos,
              std::string("gamma 5e-324 on device float32: got ") + circleloss_status_name(refused.status) + ": " +
                  refused.message);
        std::fprintf(g_log, "device gamma 5e-324 (float32): %s: %s\n", circleloss_status_name(refused.status),
                     refused.message.c_str());
    }
    Session tiny(CIRCLELOSS_BACKEND_CUDA, 4096);
    RunConfig rc;
    const Outputs o = run(tiny.s, c, rc);
    check(o.status == CIRCLELOSS_STATUS_OUT_OF_MEMORY,
          std::string("4 KiB workspace: got ") + circleloss_status_name(o.status) + ": " + o.message);
    std::fprintf(g_log, "tiny workspace: %s: %s\n", circleloss_status_name(o.status), o.message.c_str());
    // A session after the failures still computes.
    RunConfig ok;
    ok.memory = CIRCLELOSS_MEMORY_DEVICE;
    check(run(gpu, c, ok).status == CIRCLELOSS_STATUS_OK, "session usable after failed calls");
}

// ---- benchmark -------------------------------------------------------------------------------------
void write_file(const std::string& path, const void* data, size_t bytes) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        return;
    }
    std::fwrite(data, 1, bytes, f);
    std::fclose(f);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct BenchRow {
    std::string name;
    double forward_ms = 0, forward_backward_ms = 0, forward_ms_tf32 = 0, forward_backward_ms_tf32 = 0;
    double loss = 0;
};

BenchRow bench(const char* name, int64_t n, int64_t m, int64_t d, bool refs, const std::string& dump_dir,
               int reps) {
    BenchRow row;
    row.name = name;
    std::mt19937_64 rng(99);
    // float32 inputs generated directly (the float64 Case would be large).
    std::vector<float> x(static_cast<size_t>(n * d)), r(refs ? static_cast<size_t>(m * d) : 0);
    std::vector<int32_t> y(static_cast<size_t>(n)), ry(refs ? static_cast<size_t>(m) : 0);
    std::normal_distribution<float> normal;
    std::uniform_int_distribution<int> label(0, refs ? 999 : 511);
    auto fill_unit = [&](std::vector<float>& v, int64_t rows) {
        for (int64_t i = 0; i < rows; ++i) {
            double norm = 0;
            for (int64_t k = 0; k < d; ++k) {
                const float z = normal(rng);
                v[static_cast<size_t>(i * d + k)] = z;
                norm += static_cast<double>(z) * z;
            }
            const float inv = static_cast<float>(1.0 / std::sqrt(norm));
            for (int64_t k = 0; k < d; ++k) v[static_cast<size_t>(i * d + k)] *= inv;
        }
    };
    fill_unit(x, n);
    for (auto& v : y) v = label(rng);
    if (refs) {
        fill_unit(r, m);
        for (auto& v : ry) v = label(rng);
    }
    for (int tf32 = 0; tf32 < 2; ++tf32) {
        Session session(CIRCLELOSS_BACKEND_CUDA, 0, tf32 ? CIRCLELOSS_SESSION_FLAG_ALLOW_TF32 : 0);
        circleloss_session* s = session.s;
        void *dx_, *dy_, *dr_ = nullptr, *dry_ = nullptr, *dloss, *dgx, *dgr = nullptr, *dstate;
        CL_CHECK(circleloss_device_alloc(&dx_, s, x.size() * 4));
        CL_CHECK(circleloss_device_alloc(&dy_, s, y.size() * 4));
        CL_CHECK(circleloss_device_copy(s, dx_, x.data(), x.size() * 4, CIRCLELOSS_COPY_HOST_TO_DEVICE));
        CL_CHECK(circleloss_device_copy(s, dy_, y.data(), y.size() * 4, CIRCLELOSS_COPY_HOST_TO_DEVICE));
        if (refs) {
            CL_CHECK(circleloss_device_alloc(&dr_, s, r.size() * 4));
            CL_CHECK(circleloss_device_alloc(&dry_, s, ry.size() * 4));
            CL_CHECK(circleloss_device_copy(s, dr_, r.data(), r.size() * 4, CIRCLELOSS_COPY_HOST_TO_DEVICE));
            CL_CHECK(circleloss_device_copy(s, dry_, ry.data(), ry.size() * 4, CIRCLELOSS_COPY_HOST_TO_DEVICE));
            CL_CHECK(circleloss_device_alloc(&dgr, s, r.size() * 4));
        }
        CL_CHECK(circleloss_device_alloc(&dloss, s, 4));
        CL_CHECK(circleloss_device_alloc(&dgx, s, x.size() * 4));
        CL_CHECK(circleloss_device_alloc(&dstate, s, static_cast<uint64_t>(2 * n) * 4));
        circleloss_options o;
        CL_CHECK(circleloss_options_init(&o));
        circleloss_problem p;
        CL_CHECK(circleloss_problem_init(&p));
        p.memory = CIRCLELOSS_MEMORY_DEVICE;
        p.n = n;
        p.d = d;
        p.m = refs ? m : 0;
        p.labels = static_cast<const int32_t*>(dy_);
        p.embeddings = dx_;
        p.ref_labels = static_cast<const int32_t*>(dry_);
        p.ref_embeddings = dr_;
        circleloss_forward_output fo;
        CL_CHECK(circleloss_forward_output_init(&fo));
        fo.loss = dloss;
        fo.saved_state = dstate;
        circleloss_gradient_output go;
        CL_CHECK(circleloss_gradient_output_init(&go));
        go.grad_embeddings = dgx;
        go.grad_ref_embeddings = dgr;
        auto time_ms = [&](bool backward) {
            std::vector<double> t;
            for (int k = 0; k < reps + 2; ++k) {
                CL_CHECK(circleloss_session_synchronize(s));
                const auto t0 = std::chrono::steady_clock::now();
                if (backward) {
                    CL_CHECK(circleloss_forward_backward(&fo, &go, s, &o, &p));
                } else {
                    CL_CHECK(circleloss_forward(&fo, s, &o, &p));
                }
                CL_CHECK(circleloss_session_synchronize(s));
                const auto t1 = std::chrono::steady_clock::now();
                if (k >= 2) t.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            }
            return median(t);
        };
        const double f = time_ms(false);
        const double fb = time_ms(true);
        float loss = 0;
        CL_CHECK(circleloss_device_copy(s, &loss, dloss, 4, CIRCLELOSS_COPY_DEVICE_TO_HOST));
        if (tf32) {
            row.forward_ms_tf32 = f;
            row.forward_backward_ms_tf32 = fb;
        } else {
            row.forward_ms = f;
            row.forward_backward_ms = fb;
            row.loss = loss;
            const char* desc = "";
            circleloss_session_describe(&desc, s);
            std::fprintf(g_log, "bench session: %s\n", desc);
            if (!dump_dir.empty()) {
                const std::string base = dump_dir + "/" + name;
                char meta[256];
                const int len = std::snprintf(meta, sizeof meta,
                                              "{\"name\": \"%s\", \"n\": %lld, \"m\": %lld, \"d\": %lld, \"self\": %d}\n",
                                              name, static_cast<long long>(n), static_cast<long long>(refs ? m : n),
                                              static_cast<long long>(d), refs ? 0 : 1);
                write_file(base + ".meta.json", meta, static_cast<size_t>(len));
                write_file(base + ".x.f32", x.data(), x.size() * 4);
                write_file(base + ".y.i32", y.data(), y.size() * 4);
                if (refs) {
                    write_file(base + ".r.f32", r.data(), r.size() * 4);
                    write_file(base + ".ry.i32", ry.data(), ry.size() * 4);
                }
                std::vector<float> gx(x.size()), gr(r.size());
                CL_CHECK(circleloss_device_copy(s, gx.data(), dgx, gx.size() * 4, CIRCLELOSS_COPY_DEVICE_TO_HOST));
                write_file(base + ".loss.f32", &loss, 4);
                write_file(base + ".dx.f32", gx.data(), gx.size() * 4);
                if (refs) {
                    CL_CHECK(circleloss_device_copy(s, gr.data(), dgr, gr.size() * 4, CIRCLELOSS_COPY_DEVICE_TO_HOST));
                    write_file(base + ".dr.f32", gr.data(), gr.size() * 4);
                }
            }
        }
        for (void* ptr : {dx_, dy_, dr_, dry_, dloss, dgx, dgr, dstate}) circleloss_device_free(s, ptr);
    }
    std::fprintf(g_log, "bench %s: forward %.3f ms, forward+backward %.3f ms; TF32: %.3f / %.3f ms; loss %.6f\n",
                 name, row.forward_ms, row.forward_backward_ms, row.forward_ms_tf32, row.forward_backward_ms_tf32,
                 row.loss);
    std::fflush(g_log);
    return row;
}

}  // namespace

// batch_part_check.cpp: parts of a batch (diagonal_offset, reduction_divisor, reduction_terms) against the whole.
void run_batch_part_checks(circleloss_session* gpu, circleloss_session* cpu, void (*check)(bool, const std::string&));

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <golden-dir> [--quick] [--bench] [--dump dir] [--log file]\n", argv[0]);
        return 2;
    }
    const std::string golden_dir = argv[1];
    bool quick = false, do_bench = false, only_bench = false;
    std::string dump_dir, log_path;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") quick = true;
        if (a == "--bench") do_bench = true;
        if (a == "--only-bench") do_bench = only_bench = true;
        if (a == "--dump" && i + 1 < argc) dump_dir = argv[++i];
        if (a == "--log" && i + 1 < argc) log_path = argv[++i];
        if (a == "--cpu-self-test") g_cpu_only = true;
    }
    if (!log_path.empty()) {
        g_log = std::fopen(log_path.c_str(), "w");
        if (!g_log) g_log = stdout;
    }

    int32_t available = 0;
    const char* detail = "";
    CL_CHECK(circleloss_query_backend(&available, &detail, CIRCLELOSS_BACKEND_CUDA));
    std::printf("CUDA backend available: %d (%s)\n", available, detail);
    if (!available && !g_cpu_only) return 1;

    {
        Session gpu(g_cpu_only ? CIRCLELOSS_BACKEND_CPU : CIRCLELOSS_BACKEND_CUDA);
        Session cpu(CIRCLELOSS_BACKEND_CPU);
        const char* desc = "";
        circleloss_session_describe(&desc, gpu.s);
        std::printf("GPU session: %s\n", desc);
        circleloss_session_describe(&desc, cpu.s);
        std::printf("CPU session: %s\n", desc);
        if (!only_bench) {
            const auto t0 = std::chrono::steady_clock::now();
            const int files = run_golden(golden_dir, quick, gpu.s, cpu.s);
            check(files > 0, "golden files found in " + golden_dir);
            const auto t1 = std::chrono::steady_clock::now();
            run_random(quick, gpu.s, cpu.s);
            run_batch_part_checks(gpu.s, cpu.s, check);
            const auto t2 = std::chrono::steady_clock::now();
            if (!g_cpu_only) run_error_checks(gpu.s);
            std::printf("golden %.1f s, random %.1f s\n", std::chrono::duration<double>(t1 - t0).count(),
                        std::chrono::duration<double>(t2 - t1).count());
            std::printf("worst normwise error: f32 loss %.3g grad %.3g; f64 loss %.3g grad %.3g\n", g_worst_loss[0],
                        g_worst_grad[0], g_worst_loss[1], g_worst_grad[1]);
            std::printf("checks: %d, %s\n", g_checks, g_failed ? "FAILED" : "all passed");
        }
    }
    if (do_bench) {
        const BenchRow a = bench("self_n8192_d512", 8192, 8192, 512, false, dump_dir, 10);
        const BenchRow b = bench("refs_n4096_m262144_d128", 4096, 262144, 128, true, dump_dir, 5);
        for (const BenchRow& r : {a, b}) {
            std::printf("BENCH %s fwd_ms=%.3f fwdbwd_ms=%.3f fwd_tf32_ms=%.3f fwdbwd_tf32_ms=%.3f loss=%.6f\n",
                        r.name.c_str(), r.forward_ms, r.forward_backward_ms, r.forward_ms_tf32,
                        r.forward_backward_ms_tf32, r.loss);
        }
    }
    if (g_log != stdout) std::fclose(g_log);
    return g_failed ? 1 : 0;
}
