// The computation of one provider call on the device (see provider.cpp for the scheme).
#include "passes.h"

#include <cinttypes>
#include <cmath>

#include "tile_plan.h"

namespace circleloss {
namespace cuda {
namespace {

// ---- value checks of device inputs ------------------------------------------------------------------

template <class T>
T read_element(const Context& ctx, const T* device_array, uint64_t index) {
    T v{};
    check_cuda(cudaMemcpyAsync(&v, device_array + index, sizeof(T), cudaMemcpyDeviceToHost, ctx.stream),
               "cudaMemcpyAsync (reading a bad value)");
    check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize");
    return v;
}

// For DEVICE problems: the checks the core makes on host memory, as device reductions.
template <class T>
void check_device_values(Context& ctx, const DeviceProblem<T>& p, bool refs_given, bool check_upstream,
                         const T* saved_state, unsigned long long* flags) {
    check_cuda(cudaMemsetAsync(flags, 0xff, kFlagCount * sizeof(unsigned long long), ctx.stream), "cudaMemsetAsync");
    check_cuda(launch_find_bad(p.x, p.n * p.d, kBadNonFinite, flags + 0, ctx.stream), "value check kernel");
    if (refs_given) check_cuda(launch_find_bad(p.r, p.m * p.d, kBadNonFinite, flags + 1, ctx.stream), "value check kernel");
    if (p.w) check_cuda(launch_find_bad(p.w, p.n, kBadNonFiniteOrNegative, flags + 2, ctx.stream), "value check kernel");
    if (check_upstream && p.upstream) {
        check_cuda(launch_find_bad(p.upstream, p.loss_length, kBadNonFinite, flags + 3, ctx.stream), "value check kernel");
    }
    if (saved_state) {
        check_cuda(launch_find_bad(saved_state, 2 * p.n, kBadNanOrPositiveInf, flags + 4, ctx.stream),
                   "value check kernel");
    }
    check_cuda(cudaMemcpyAsync(ctx.host_flags, flags, kFlagCount * sizeof(unsigned long long), cudaMemcpyDeviceToHost,
                               ctx.stream),
               "cudaMemcpyAsync (value checks)");
    check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize (value checks)");
    const unsigned long long none = ~0ull;
    const unsigned long long* f = ctx.host_flags;
    if (f[0] != none) {
        const double v = static_cast<double>(read_element(ctx, p.x, f[0]));
        fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->embeddings",
             format(" has a non-finite value (%g) at row %" PRId64 ", column %" PRId64, v,
                    static_cast<int64_t>(f[0]) / p.d, static_cast<int64_t>(f[0]) % p.d));
    }
    if (f[1] != none) {
        const double v = static_cast<double>(read_element(ctx, p.r, f[1]));
        fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->ref_embeddings",
             format(" has a non-finite value (%g) at row %" PRId64 ", column %" PRId64, v,
                    static_cast<int64_t>(f[1]) / p.d, static_cast<int64_t>(f[1]) % p.d));
    }
    if (f[2] != none) {
        const double v = static_cast<double>(read_element(ctx, p.w, f[2]));
        if (!std::isfinite(v)) {
            fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->sample_weights",
                 format(" has a non-finite value (%g) at index %llu", v, f[2]));
        }
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->sample_weights",
             format(" must be >= 0; index %llu is %g", f[2], v));
    }
    if (f[3] != none) {
        const double v = static_cast<double>(read_element(ctx, p.upstream, f[3]));
        fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->upstream",
             format(" has a non-finite value (%g) at index %llu", v, f[3]));
    }
    if (f[4] != none) {
        const double v = static_cast<double>(read_element(ctx, saved_state, f[4]));
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "saved_state",
             format("[%llu] is %g: not a state written by circleloss_forward", f[4], v));
    }
}

// ---- the passes -------------------------------------------------------------------------------------

struct ForwardTargets {
    void* loss = nullptr;  // device
    void* per_sample = nullptr;
    uint8_t* mask = nullptr;
    void* saved_state = nullptr;  // device, optional (the state is also kept in scratch)
    double* reduction_terms = nullptr;  // device, optional
};

struct GradientTargets {
    void* dx = nullptr;  // device
    void* dr = nullptr;  // device, NULL when the queries are their own references
};

template <class T>
void run_forward_pass(Context& ctx, const DeviceProblem<T>& p, const circleloss_resolved_options& o, const Plan& plan,
                      RowScratch<T>& rs, const ForwardTargets& out) {
    const PairLabels labels{p.y, p.ry, p.wide_labels ? 1 : 0, o.remove_diagonal, p.diagonal_offset};
    const math::Params<T> params = params_of<T>(o);
    check_cuda(launch_init_accum(rs.acc, p.n, ctx.stream), "init kernel");
    for (int64_t bi = 0; bi < plan.row_blocks; ++bi) {
        for (int64_t bj = 0; bj < plan.col_blocks; ++bj) {
            const Tile t = plan.tile(bi, bj, p.n, p.m);
            T* s = rs.tiles + (plan.keep_all ? static_cast<uint64_t>(bi * plan.col_blocks + bj) * plan.tile_elements : 0);
            similarity(ctx.blas, t, p.d, p.x, p.r, s);
            check_cuda(launch_lse_tile(s, t, labels, params, rs.acc, ctx.stream), "forward tile kernel");
        }
    }
    const bool none = o.reduction == CIRCLELOSS_REDUCTION_NONE;
    check_cuda(launch_finalize_forward(rs.acc, p.n, p.w, rs.state, static_cast<T*>(out.per_sample), out.mask,
                                       none ? static_cast<T*>(out.loss) : nullptr, ctx.stream),
               "forward finalize kernel");
    check_cuda(launch_reduce(rs.state, p.w, p.n, static_cast<int>(o.reduction), p.reduction_divisor,
                             none ? nullptr : static_cast<T*>(out.loss), rs.divisor, out.reduction_terms, ctx.stream),
               "reduction kernel");
    if (out.saved_state && p.n > 0) {
        check_cuda(cudaMemcpyAsync(out.saved_state, rs.state, static_cast<size_t>(2 * p.n) * sizeof(T),
                                   cudaMemcpyDeviceToDevice, ctx.stream),
                   "cudaMemcpyAsync (saved state)");
    }
}

// `state` holds LP, LN per row; `divisor_ready` when the forward pass of this call computed it.
template <class T>
void run_backward_pass(Context& ctx, const DeviceProblem<T>& p, const circleloss_resolved_options& o, const Plan& plan,
                       RowScratch<T>& rs, const T* state, bool tiles_ready, bool divisor_ready,
                       const GradientTargets& out) {
    const PairLabels labels{p.y, p.ry, p.wide_labels ? 1 : 0, o.remove_diagonal, p.diagonal_offset};
    const math::Params<T> params = params_of<T>(o);
    T* dx = static_cast<T*>(out.dx);
    T* dr = static_cast<T*>(out.dr);
    const int reduction = static_cast<int>(o.reduction);
    if (!divisor_ready) {
        check_cuda(launch_reduce<T>(state, p.w, p.n, reduction, p.reduction_divisor, nullptr, rs.divisor, nullptr,
                                    ctx.stream),
                   "reduction kernel");
    }
    check_cuda(launch_row_scale(state, p.w, p.upstream, p.n, reduction, rs.divisor, rs.scale, ctx.stream),
               "row scale kernel");
    if (p.m == 0 && p.n > 0) {
        check_cuda(cudaMemsetAsync(dx, 0, static_cast<size_t>(p.n * p.d) * sizeof(T), ctx.stream), "cudaMemsetAsync");
    }
    if (p.n == 0 && p.m > 0 && dr) {
        check_cuda(cudaMemsetAsync(dr, 0, static_cast<size_t>(p.m * p.d) * sizeof(T), ctx.stream), "cudaMemsetAsync");
    }
    const bool symmetric = p.refs_are_queries;
    for (int64_t bi = 0; bi < plan.row_blocks; ++bi) {
        for (int64_t bj = 0; bj < plan.col_blocks; ++bj) {
            const Tile t = plan.tile(bi, bj, p.n, p.m);
            T* s = rs.tiles + (plan.keep_all ? static_cast<uint64_t>(bi * plan.col_blocks + bj) * plan.tile_elements : 0);
            if (!tiles_ready) similarity(ctx.blas, t, p.d, p.x, p.r, s);
            check_cuda(launch_gradient_tile(s, t, labels, symmetric, state, rs.scale, params, ctx.stream),
                       "gradient tile kernel");
            gradient_rows(ctx.blas, t, p.d, s, p.r, dx, bj > 0);
            if (!symmetric) gradient_columns(ctx.blas, t, p.d, s, p.x, dr, bi > 0);
        }
    }
}

// ---- calls: staging of host memory, workspace, and the passes ---------------------------------------

template <class T>
void run_call(Context& ctx, CallKind kind, const circleloss_forward_output* fwd, const circleloss_gradient_output* grad,
              const circleloss_resolved_options& o, const circleloss_resolved_problem& problem,
              const void* saved_state_in) {
    require_cublas_dimension(problem.d);
    const bool host = problem.memory == CIRCLELOSS_MEMORY_HOST;
    const bool do_forward = kind != CallKind::kBackward;
    const bool do_backward = kind != CallKind::kForward;
    const bool refs_given = !problem.refs_are_queries;
    const bool ref_labels_given = problem.ref_labels != problem.labels;  // else the same labels need no copy
    const uint64_t nd = static_cast<uint64_t>(problem.n * problem.d);
    const uint64_t md = static_cast<uint64_t>(problem.m * problem.d);
    const uint64_t n = static_cast<uint64_t>(problem.n);
    const uint64_t m = static_cast<uint64_t>(problem.m);

    // Device views of inputs and outputs; for host memory, staged copies.
    DeviceProblem<T> p;
    p.n = problem.n;
    p.d = problem.d;
    p.m = problem.m;
    p.refs_are_queries = problem.refs_are_queries != 0;
    p.loss_length = problem.loss_length;
    p.wide_labels = problem.label_type == CIRCLELOSS_LABELS_INT64;  // validated by the core
    p.diagonal_offset = problem.diagonal_offset;
    p.reduction_divisor = problem.reduction_divisor;
    const uint64_t label_bytes = p.wide_labels ? sizeof(int64_t) : sizeof(int32_t);
    ForwardTargets fo;
    GradientTargets go;
    const T* saved_state = static_cast<const T*>(saved_state_in);
    const uint64_t upstream_count = static_cast<uint64_t>(problem.loss_length);

    Layout staging;
    struct Staged {
        T* x = nullptr;
        T* r = nullptr;
        void* y = nullptr;
        void* ry = nullptr;
        T* w = nullptr;
        T* upstream = nullptr;
        T* state_in = nullptr;
        T* loss = nullptr;
        T* per_sample = nullptr;
        uint8_t* mask = nullptr;
        T* state_out = nullptr;
        double* terms = nullptr;
        T* dx = nullptr;
        T* dr = nullptr;
    } st;
    auto lay_out_staging = [&] {
        st.x = staging.take<T>(nd);
        st.r = refs_given ? staging.take<T>(md) : nullptr;
        st.y = staging.take<unsigned char>(n * label_bytes);
        st.ry = ref_labels_given ? staging.take<unsigned char>(m * label_bytes) : nullptr;
        st.w = problem.sample_weights ? staging.take<T>(n) : nullptr;
        st.upstream = (do_backward && problem.upstream) ? staging.take<T>(upstream_count) : nullptr;
        st.state_in = kind == CallKind::kBackward ? staging.take<T>(2 * n) : nullptr;
        if (do_forward) {
            st.loss = staging.take<T>(static_cast<uint64_t>(problem.loss_length));
            st.per_sample = fwd->per_sample_loss ? staging.take<T>(n) : nullptr;
            st.mask = fwd->mask ? staging.take<uint8_t>(n) : nullptr;
            st.state_out = fwd->saved_state ? staging.take<T>(2 * n) : nullptr;
            st.terms = fwd->reduction_terms ? staging.take<double>(CIRCLELOSS_REDUCTION_TERMS) : nullptr;
        }
        if (do_backward) {
            st.dx = staging.take<T>(nd);
            st.dr = refs_given ? staging.take<T>(md) : nullptr;
        }
    };
    if (host) {
        staging.start(nullptr);
        lay_out_staging();
        void* base = ctx.staging.ensure(staging.size(), "device copies of the host arrays");
        staging.start(base);
        lay_out_staging();
        auto upload = [&](void* dst, const void* src, uint64_t bytes) {
            if (bytes == 0 || !src || !dst) return;  // absent, or not used by this call
            check_cuda(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice, ctx.stream),
                       "cudaMemcpyAsync (host to device)");
        };
        upload(st.x, problem.embeddings, nd * sizeof(T));
        upload(st.r, problem.ref_embeddings, md * sizeof(T));
        upload(st.y, problem.labels, n * label_bytes);
        upload(st.ry, problem.ref_labels, m * label_bytes);
        upload(st.w, problem.sample_weights, n * sizeof(T));
        upload(st.upstream, problem.upstream, upstream_count * sizeof(T));
        upload(st.state_in, saved_state_in, 2 * n * sizeof(T));
        p.x = st.x;
        p.r = refs_given ? st.r : st.x;
        p.y = st.y;
        p.ry = ref_labels_given ? st.ry : st.y;
        p.w = st.w;
        p.upstream = do_backward ? st.upstream : nullptr;
        saved_state = st.state_in;
        fo.loss = st.loss;
        fo.per_sample = st.per_sample;
        fo.mask = st.mask;
        fo.saved_state = st.state_out;
        fo.reduction_terms = st.terms;
        go.dx = st.dx;
        go.dr = st.dr;
    } else {
        p.x = static_cast<const T*>(problem.embeddings);
        p.r = static_cast<const T*>(problem.ref_embeddings);  // the embeddings when not given
        p.y = problem.labels;
        p.ry = problem.ref_labels;  // the labels when not given
        p.w = static_cast<const T*>(problem.sample_weights);
        p.upstream = do_backward ? static_cast<const T*>(problem.upstream) : nullptr;
        if (do_forward) {
            fo.loss = fwd->loss;
            fo.per_sample = fwd->per_sample_loss;
            fo.mask = fwd->mask;
            fo.saved_state = fwd->saved_state;
            fo.reduction_terms = fwd->reduction_terms;
        }
        if (do_backward) {
            go.dx = grad->grad_embeddings;
            go.dr = refs_given ? grad->grad_ref_embeddings : nullptr;
        }
    }

    // Scratch: per-row arrays, then tiles in what the limit leaves.
    RowScratch<T> rs;
    Layout rows;
    rows.start(nullptr);
    layout_rows(rows, rs, problem.n, do_forward, do_backward);
    const uint64_t fixed = rows.size();
    const uint64_t limit = workspace_limit_of(ctx);
    if (fixed > limit) {
        fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
             format("the CUDA backend needs %" PRIu64 " bytes of workspace for the per-row state of %" PRId64
                    " rows alone; the session's limit is %" PRIu64 " bytes",
                    fixed, problem.n, limit));
    }
    const Plan plan = plan_tiles<T>(problem.n, problem.m, limit - fixed, kind == CallKind::kForwardBackward, limit, fixed);
    const uint64_t total = fixed + Layout::align(plan.buffer_elements() * sizeof(T));
    void* scratch = ctx.scratch.ensure(total, "workspace");
    rows.start(scratch);
    layout_rows(rows, rs, problem.n, do_forward, do_backward);
    rs.tiles = reinterpret_cast<T*>(static_cast<char*>(scratch) + fixed);

    if (!host) {
        check_device_values(ctx, p, refs_given, do_backward, kind == CallKind::kBackward ? saved_state : nullptr,
                            rs.flags);
    }

    if (do_forward) run_forward_pass(ctx, p, o, plan, rs, fo);
    if (do_backward) {
        const T* state = do_forward ? rs.state : saved_state;
        run_backward_pass(ctx, p, o, plan, rs, state, do_forward && plan.keep_all, do_forward, go);
    }

    if (host) {
        auto download = [&](void* dst, const void* src, uint64_t bytes) {
            if (bytes == 0 || !dst) return;
            check_cuda(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, ctx.stream),
                       "cudaMemcpyAsync (device to host)");
        };
        // Finish and check everything before the first host output is written.
        check_cuda(cudaStreamSynchronize(ctx.stream), "the CUDA computation");
        if (do_forward) {
            download(fwd->loss, st.loss, static_cast<uint64_t>(problem.loss_length) * sizeof(T));
            download(fwd->per_sample_loss, st.per_sample, n * sizeof(T));
            download(fwd->mask, st.mask, n);
            download(fwd->saved_state, st.state_out, 2 * n * sizeof(T));
            download(fwd->reduction_terms, st.terms, CIRCLELOSS_REDUCTION_TERMS * sizeof(double));
        }
        if (do_backward) {
            download(grad->grad_embeddings, st.dx, nd * sizeof(T));
            if (refs_given) download(grad->grad_ref_embeddings, st.dr, md * sizeof(T));
        }
    }
    check_cuda(cudaStreamSynchronize(ctx.stream), "the CUDA computation");
}

}  // namespace

void dispatch(Context& ctx, CallKind kind, const circleloss_forward_output* fwd, const circleloss_gradient_output* grad,
              const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
              const void* saved_state) {
    std::lock_guard<std::mutex> lock(ctx.mutex);
    use_device(ctx);
    if (problem->dtype == CIRCLELOSS_DTYPE_FLOAT64) {
        run_call<double>(ctx, kind, fwd, grad, *options, *problem, saved_state);
    } else {
        run_call<float>(ctx, kind, fwd, grad, *options, *problem, saved_state);
    }
}

}  // namespace cuda
}  // namespace circleloss
