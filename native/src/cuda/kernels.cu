// Kernels of the CUDA provider; see kernels.cuh for what each one computes.
#include "kernels.cuh"

#include <cuda_runtime.h>

namespace circleloss {
namespace cuda {
namespace {

using math::OnlineLse;
using math::Params;

constexpr int kBlock = 128;  // threads per block of the tile kernels: four warps
constexpr int kWarp = 32;
constexpr int kReduceBlock = 512;

template <class T>
__device__ __forceinline__ OnlineLse<T> shfl_down(const OnlineLse<T>& v, int offset) {
    OnlineLse<T> r;
    r.max = __shfl_down_sync(0xffffffffu, v.max, offset);
    r.sum = __shfl_down_sync(0xffffffffu, v.sum, offset);
    return r;
}

// Merges the warp's 32 partial sums into lane 0, always in the same tree order.
template <class T>
__device__ __forceinline__ OnlineLse<T> warp_merge(OnlineLse<T> v) {
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) {
        v = math::lse_merge(v, shfl_down(v, offset));
    }
    return v;
}

// Grid shape of the tile kernels: WARPS_PER_ROW warps (1 or 4) share one tile row, so a block of four
// warps covers 4 / WARPS_PER_ROW rows. Wide tiles use a whole block per row.
template <int WARPS_PER_ROW>
struct RowMapping {
    static constexpr int kRowsPerBlock = (kBlock / kWarp) / WARPS_PER_ROW;
    static constexpr int kThreadsPerRow = WARPS_PER_ROW * kWarp;
    int64_t row;  // row within the tile
    int lane_in_row;
    int warp_in_row;
    int row_in_block;
    __device__ RowMapping() {
        const int warp = static_cast<int>(threadIdx.x) / kWarp;
        row_in_block = warp / WARPS_PER_ROW;
        warp_in_row = warp % WARPS_PER_ROW;
        lane_in_row = warp_in_row * kWarp + static_cast<int>(threadIdx.x) % kWarp;
        row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + row_in_block;
    }
};

template <class T>
__global__ void __launch_bounds__(256) init_accum_kernel(RowAccum<T>* acc, int64_t n) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) {
        acc[i].pos = math::lse_empty<T>();
        acc[i].neg = math::lse_empty<T>();
    }
}

// The forward tile: each thread folds a strided subset of a row's columns into two running
// log-sum-exps (positives, negatives), the row's threads merge theirs in a fixed tree, and one thread
// merges the result after the row's accumulator from earlier tiles.
template <class T, class L, int WARPS_PER_ROW>
__global__ void __launch_bounds__(kBlock) lse_tile_kernel(const T* __restrict__ s, Tile tile, PairLabels labels,
                                                          Params<T> params, RowAccum<T>* __restrict__ acc) {
    using Map = RowMapping<WARPS_PER_ROW>;
    const Map map;
    const bool active = map.row < tile.rows;
    OnlineLse<T> pos = math::lse_empty<T>();
    OnlineLse<T> neg = math::lse_empty<T>();
    if (active) {
        const int64_t i = tile.i0 + map.row;
        const L yi = static_cast<const L*>(labels.y)[i];
        const bool remove_diagonal = labels.remove_diagonal != 0;
        const T* srow = s + map.row * tile.cols;
        const L* ry = static_cast<const L*>(labels.ry) + tile.j0;
        const int cols = static_cast<int>(tile.cols);
        const int64_t diagonal = i + labels.diagonal_offset - tile.j0;  // the column of the diagonal pair, if here
        for (int c = map.lane_in_row; c < cols; c += Map::kThreadsPerRow) {
            const T sim = srow[c];
            const int kind = math::pair_kind(yi, ry[c], c == diagonal, remove_diagonal);
            if (kind == math::kPairPositive) {
                math::lse_add(pos, math::positive_logit(sim, params));
            } else if (kind == math::kPairNegative) {
                math::lse_add(neg, math::negative_logit(sim, params));
            }
        }
    }
    pos = warp_merge(pos);
    neg = warp_merge(neg);
    if (WARPS_PER_ROW > 1) {
        __shared__ OnlineLse<T> shared_pos[kBlock / kWarp];
        __shared__ OnlineLse<T> shared_neg[kBlock / kWarp];
        const int warp = static_cast<int>(threadIdx.x) / kWarp;
        if (threadIdx.x % kWarp == 0) {
            shared_pos[warp] = pos;
            shared_neg[warp] = neg;
        }
        __syncthreads();
        if (map.lane_in_row == 0) {
            const int first = map.row_in_block * WARPS_PER_ROW;
            for (int w = 1; w < WARPS_PER_ROW; ++w) {
                pos = math::lse_merge(pos, shared_pos[first + w]);
                neg = math::lse_merge(neg, shared_neg[first + w]);
            }
        }
    }
    if (active && map.lane_in_row == 0) {
        RowAccum<T>& a = acc[tile.i0 + map.row];
        a.pos = math::lse_merge(a.pos, pos);
        a.neg = math::lse_merge(a.neg, neg);
    }
}

template <class T>
__global__ void __launch_bounds__(256)
    finalize_forward_kernel(const RowAccum<T>* __restrict__ acc, int64_t n, const T* __restrict__ weights,
                            T* __restrict__ state, T* __restrict__ per_sample, uint8_t* __restrict__ mask,
                            T* __restrict__ weighted_loss) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const T lp = math::lse_value(acc[i].pos);
    const T ln = math::lse_value(acc[i].neg);
    state[2 * i] = lp;
    state[2 * i + 1] = ln;
    const math::RowLoss<T> row = math::row_loss(lp, ln);
    if (per_sample) per_sample[i] = row.loss;
    if (mask) mask[i] = row.valid ? 1 : 0;
    if (weighted_loss) weighted_loss[i] = (weights ? weights[i] : T(1)) * row.loss;
}

// One block: each thread sums a strided subset of rows in double, then a fixed shared-memory tree.
template <class T>
__global__ void __launch_bounds__(kReduceBlock)
    reduce_kernel(const T* __restrict__ state, const T* __restrict__ weights, int64_t n, int reduction,
                  double supplied_divisor, T* __restrict__ loss, double* __restrict__ divisor_out,
                  double* __restrict__ terms) {
    __shared__ double shared_total[kReduceBlock];
    __shared__ double shared_count[kReduceBlock];
    __shared__ double shared_weight[kReduceBlock];
    double total = 0, count = 0, weight_sum = 0;
    for (int64_t i = threadIdx.x; i < n; i += kReduceBlock) {
        const math::RowLoss<T> row = math::row_loss(state[2 * i], state[2 * i + 1]);
        if (row.valid) {
            const T w = weights ? weights[i] : T(1);
            total += math::weighted_row_loss(w, row.loss);
            count += 1;
            weight_sum += static_cast<double>(w);
        }
    }
    shared_total[threadIdx.x] = total;
    shared_count[threadIdx.x] = count;
    shared_weight[threadIdx.x] = weight_sum;
    __syncthreads();
    for (int half = kReduceBlock / 2; half > 0; half /= 2) {
        if (static_cast<int>(threadIdx.x) < half) {
            shared_total[threadIdx.x] += shared_total[threadIdx.x + half];
            shared_count[threadIdx.x] += shared_count[threadIdx.x + half];
            shared_weight[threadIdx.x] += shared_weight[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        const double own = math::reduction_divisor(reduction, shared_count[0], shared_weight[0]);
        const double divisor = math::call_divisor(own, supplied_divisor);
        divisor_out[0] = divisor;
        if (loss) loss[0] = static_cast<T>(math::reduced_loss(shared_total[0], divisor));
        if (terms) {
            terms[0] = shared_total[0];
            terms[1] = own;
        }
    }
}

template <class T>
__global__ void __launch_bounds__(256)
    row_scale_kernel(const T* __restrict__ state, const T* __restrict__ weights, const T* __restrict__ upstream,
                     int64_t n, int reduction, const double* __restrict__ divisor, T* __restrict__ scale) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const T lp = state[2 * i];
    const T ln = state[2 * i + 1];
    const math::RowLoss<T> row = math::row_loss(lp, ln);
    const T w = weights ? weights[i] : T(1);
    const T u = upstream ? upstream[reduction == math::kReduceNone ? i : 0] : T(1);
    scale[i] = math::row_gradient_scale(lp, ln, math::row_coefficient(reduction, row.valid, w, u, divisor[0]));
}

// The backward tile, in place: G_ij from row i's state; for queries that are their own references also
// the same similarity seen from row j as the query (G_ji), so that dX = (G + Gᵀ)·X is one product.
template <class T, class L, bool SYMMETRIC, int WARPS_PER_ROW>
__global__ void __launch_bounds__(kBlock)
    gradient_tile_kernel(T* __restrict__ s, Tile tile, PairLabels labels, const T* __restrict__ state,
                         const T* __restrict__ scale, Params<T> params) {
    using Map = RowMapping<WARPS_PER_ROW>;
    const Map map;
    if (map.row >= tile.rows) return;
    const int64_t i = tile.i0 + map.row;
    const L* y = static_cast<const L*>(labels.y);
    const L* ry = static_cast<const L*>(labels.ry);
    const L yi = y[i];
    const L ryi = SYMMETRIC ? ry[i] : L(0);
    const T lp_i = state[2 * i];
    const T ln_i = state[2 * i + 1];
    const T scale_i = scale[i];
    const bool remove_diagonal = labels.remove_diagonal != 0;
    T* srow = s + map.row * tile.cols;
    // Tile-relative pointers and a 32-bit column index (tiles have fewer than 2^31 columns) keep the
    // loop's registers down: nvcc 11.8 spilled the double symmetric variant otherwise.
    const int cols = static_cast<int>(tile.cols);
    const L* ry_tile = ry + tile.j0;
    const L* y_tile = y + tile.j0;
    const T* state_tile = state + 2 * tile.j0;
    const T* scale_tile = scale + tile.j0;
    // The column of the diagonal pair (i, i + diagonal_offset) within this tile, or -1: a 32-bit compare in
    // the loop instead of keeping the 64-bit row index live (nvcc 11.8 spilled the double symmetric
    // int64-label variant otherwise). Self-similarity has offset 0 (validated by the core).
    const int64_t dj = i + labels.diagonal_offset;
    const int diagonal = (dj >= tile.j0 && dj - tile.j0 < tile.cols) ? static_cast<int>(dj - tile.j0) : -1;
    for (int c = map.lane_in_row; c < cols; c += Map::kThreadsPerRow) {
        const T sim = srow[c];
        const bool same_ij = yi == ry_tile[c];
        const bool same_ji = SYMMETRIC && y_tile[c] == ryi;
        const int kind_ij = math::pair_kind_of(same_ij, c == diagonal, remove_diagonal);
        if (SYMMETRIC) {
            // Load row j's inputs before either term: the same similarity seen from row j as the query.
            const int kind_ji = math::pair_kind_of(same_ji, c == diagonal, remove_diagonal);
            const T lp_j = state_tile[2 * c];
            const T ln_j = state_tile[2 * c + 1];
            const T scale_j = scale_tile[c];
            const T g_ij = math::pair_gradient(sim, kind_ij, lp_i, ln_i, scale_i, params);
            const T g_ji = math::pair_gradient(sim, kind_ji, lp_j, ln_j, scale_j, params);
            srow[c] = g_ij + g_ji;
        } else {
            srow[c] = math::pair_gradient(sim, kind_ij, lp_i, ln_i, scale_i, params);
        }
    }
}

template <class T>
__device__ __forceinline__ bool is_bad(T v, BadValueRule rule) {
    switch (rule) {
        case kBadNonFiniteOrNegative: return !isfinite(v) || v < T(0);
        case kBadNanOrPositiveInf: return isnan(v) || (isinf(v) && v > T(0));
        default: return !isfinite(v);
    }
}

template <class T>
__global__ void __launch_bounds__(256)
    find_bad_kernel(const T* __restrict__ data, int64_t count, BadValueRule rule, unsigned long long* first_bad) {
    unsigned long long mine = ~0ull;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
        if (is_bad(data[i], rule)) {
            mine = static_cast<unsigned long long>(i);
            break;  // later indices of this thread are larger
        }
    }
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) {
        const unsigned long long other = __shfl_down_sync(0xffffffffu, mine, offset);
        mine = other < mine ? other : mine;
    }
    if (threadIdx.x % kWarp == 0 && mine != ~0ull) atomicMin(first_bad, mine);
}

unsigned int blocks_for(int64_t items, int64_t per_block) {
    return static_cast<unsigned int>((items + per_block - 1) / per_block);
}

// Wide tiles get a block per row; narrow ones a warp per row.
bool wide(int64_t cols) { return cols >= 1024; }

}  // namespace

template <class T>
cudaError_t launch_init_accum(RowAccum<T>* acc, int64_t n, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    init_accum_kernel<T><<<blocks_for(n, 256), 256, 0, stream>>>(acc, n);
    return cudaGetLastError();
}

template <class T, class L>
void lse_tile_typed(const T* s, Tile tile, PairLabels labels, Params<T> params, RowAccum<T>* acc, cudaStream_t stream) {
    if (wide(tile.cols)) {
        lse_tile_kernel<T, L, 4><<<blocks_for(tile.rows, RowMapping<4>::kRowsPerBlock), kBlock, 0, stream>>>(
            s, tile, labels, params, acc);
    } else {
        lse_tile_kernel<T, L, 1><<<blocks_for(tile.rows, RowMapping<1>::kRowsPerBlock), kBlock, 0, stream>>>(
            s, tile, labels, params, acc);
    }
}

template <class T>
cudaError_t launch_lse_tile(const T* s, Tile tile, PairLabels labels, Params<T> params, RowAccum<T>* acc,
                            cudaStream_t stream) {
    if (tile.rows == 0 || tile.cols == 0) return cudaSuccess;
    if (labels.wide) {
        lse_tile_typed<T, int64_t>(s, tile, labels, params, acc, stream);
    } else {
        lse_tile_typed<T, int32_t>(s, tile, labels, params, acc, stream);
    }
    return cudaGetLastError();
}

template <class T>
cudaError_t launch_finalize_forward(const RowAccum<T>* acc, int64_t n, const T* weights, T* state, T* per_sample,
                                    uint8_t* mask, T* weighted_loss, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    finalize_forward_kernel<T><<<blocks_for(n, 256), 256, 0, stream>>>(acc, n, weights, state, per_sample, mask,
                                                                       weighted_loss);
    return cudaGetLastError();
}

template <class T>
cudaError_t launch_reduce(const T* state, const T* weights, int64_t n, int reduction, double supplied_divisor, T* loss,
                          double* divisor, double* terms, cudaStream_t stream) {
    reduce_kernel<T><<<1, kReduceBlock, 0, stream>>>(state, weights, n, reduction, supplied_divisor, loss, divisor,
                                                      terms);
    return cudaGetLastError();
}

template <class T>
cudaError_t launch_row_scale(const T* state, const T* weights, const T* upstream, int64_t n, int reduction,
                             const double* divisor, T* scale, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    row_scale_kernel<T><<<blocks_for(n, 256), 256, 0, stream>>>(state, weights, upstream, n, reduction, divisor,
                                                                scale);
    return cudaGetLastError();
}

template <class T, class L, int WARPS_PER_ROW>
void gradient_tile_typed(T* s, Tile tile, PairLabels labels, bool symmetric, const T* state, const T* scale,
                         Params<T> params, cudaStream_t stream) {
    const unsigned int grid = blocks_for(tile.rows, RowMapping<WARPS_PER_ROW>::kRowsPerBlock);
    if (symmetric) {
        gradient_tile_kernel<T, L, true, WARPS_PER_ROW><<<grid, kBlock, 0, stream>>>(s, tile, labels, state, scale, params);
    } else {
        gradient_tile_kernel<T, L, false, WARPS_PER_ROW><<<grid, kBlock, 0, stream>>>(s, tile, labels, state, scale, params);
    }
}

template <class T, class L>
void gradient_tile_typed(T* s, Tile tile, PairLabels labels, bool symmetric, const T* state, const T* scale,
                         Params<T> params, cudaStream_t stream) {
    if (wide(tile.cols)) {
        gradient_tile_typed<T, L, 4>(s, tile, labels, symmetric, state, scale, params, stream);
    } else {
        gradient_tile_typed<T, L, 1>(s, tile, labels, symmetric, state, scale, params, stream);
    }
}

template <class T>
cudaError_t launch_gradient_tile(T* s, Tile tile, PairLabels labels, bool symmetric, const T* state, const T* scale,
                                 Params<T> params, cudaStream_t stream) {
    if (tile.rows == 0 || tile.cols == 0) return cudaSuccess;
    if (labels.wide) {
        gradient_tile_typed<T, int64_t>(s, tile, labels, symmetric, state, scale, params, stream);
    } else {
        gradient_tile_typed<T, int32_t>(s, tile, labels, symmetric, state, scale, params, stream);
    }
    return cudaGetLastError();
}

template <class T>
cudaError_t launch_find_bad(const T* data, int64_t count, BadValueRule rule, unsigned long long* first_bad,
                            cudaStream_t stream) {
    if (count == 0) return cudaSuccess;
    const int64_t blocks = (count + 255) / 256;
    const unsigned int grid = static_cast<unsigned int>(blocks < 4096 ? blocks : 4096);
    find_bad_kernel<T><<<grid, 256, 0, stream>>>(data, count, rule, first_bad);
    return cudaGetLastError();
}

#define CIRCLELOSS_INSTANTIATE(T)                                                                                 \
    template cudaError_t launch_init_accum<T>(RowAccum<T>*, int64_t, cudaStream_t);                               \
    template cudaError_t launch_lse_tile<T>(const T*, Tile, PairLabels, Params<T>, RowAccum<T>*, cudaStream_t);   \
    template cudaError_t launch_finalize_forward<T>(const RowAccum<T>*, int64_t, const T*, T*, T*, uint8_t*, T*,  \
                                                    cudaStream_t);                                                \
    template cudaError_t launch_reduce<T>(const T*, const T*, int64_t, int, double, T*, double*, double*,        \
                                          cudaStream_t);                                                          \
    template cudaError_t launch_row_scale<T>(const T*, const T*, const T*, int64_t, int, const double*, T*,       \
                                             cudaStream_t);                                                       \
    template cudaError_t launch_gradient_tile<T>(T*, Tile, PairLabels, bool, const T*, const T*, Params<T>,       \
                                                 cudaStream_t);                                                   \
    template cudaError_t launch_find_bad<T>(const T*, int64_t, BadValueRule, unsigned long long*, cudaStream_t);

CIRCLELOSS_INSTANTIATE(float)
CIRCLELOSS_INSTANTIATE(double)

}  // namespace cuda
}  // namespace circleloss
