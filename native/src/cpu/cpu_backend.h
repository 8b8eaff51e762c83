// The CPU backend: similarity tiles by OpenBLAS GEMM, the per-pair math fused over each tile, rows and
// column tiles spread over the session's thread pool. The n×m similarity matrix is kept only when it
// fits the workspace limit; otherwise forward keeps an online log-sum-exp per row and backward
// recomputes each tile and multiplies it out at once.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>
#include <mutex>
#include <string>

#include "circleloss/circleloss.h"
#include "cpu/thread_pool.h"
#include "validation.h"

namespace circleloss {
namespace cpu {

// How calls are carried out: the whole n×m similarity matrix in memory (one product, the symmetric
// half for self-similarity) whenever it fits the workspace limit, else streamed tile by tile (memory
// independent of n·m). The environment variable CIRCLELOSS_CPU_PLAN, read when a session is created,
// can force streaming ("stream"; "auto" and "materialise" both keep the matrix when it fits): a
// diagnostic and test knob.
enum class PlanPolicy { Auto, Stream };

// Keeps the large similarity buffer of materialised calls for the next call, so that repeated calls
// (a training loop) do not pay for allocating and faulting in tens of megabytes each time. Concurrent
// calls each get their own buffer; one is kept (the largest), freed with the session.
class BufferCache {
public:
    class Lease {
    public:
        Lease(BufferCache* owner, size_t bytes, std::unique_ptr<unsigned char[]> data)
            : owner_(owner), bytes_(bytes), data_(std::move(data)) {}
        Lease(Lease&&) = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease() {
            if (owner_ && data_) owner_->give_back(bytes_, std::move(data_));
        }
        void* data() const { return data_.get(); }

    private:
        BufferCache* owner_;
        size_t bytes_;
        std::unique_ptr<unsigned char[]> data_;
    };

    // A buffer of at least `bytes` (uninitialised); throws std::bad_alloc when memory is short.
    Lease acquire(size_t bytes);

private:
    // A call holds a few buffers at once (the similarity matrix, the per-thread scratch): keeping that
    // many between calls spares every call the allocation and the page faults of fresh memory. Only large
    // buffers are kept (the allocator maps them afresh on every call); small ones come from its heap at no
    // such cost, and keeping them would only raise what an idle session holds.
    static constexpr size_t kMaxCached = 4;
    static constexpr size_t kMinCachedBytes = size_t(256) << 10;
    struct Cached {
        size_t bytes;
        std::unique_ptr<unsigned char[]> data;
    };
    void give_back(size_t bytes, std::unique_ptr<unsigned char[]> data);
    std::mutex mutex_;
    std::vector<Cached> cached_;
};

class CpuBackend {
public:
    CpuBackend(int num_threads, uint64_t workspace_limit_bytes);

    int num_threads() const { return pool_.num_threads(); }
    std::string describe() const;

    void forward(const circleloss_forward_output& output, const ResolvedOptions& options,
                 const ResolvedProblem& problem);
    void backward(const circleloss_gradient_output& output, const ResolvedOptions& options,
                  const ResolvedProblem& problem, const void* saved_state);
    void forward_backward(const circleloss_forward_output& forward_output,
                          const circleloss_gradient_output& gradient_output, const ResolvedOptions& options,
                          const ResolvedProblem& problem);

    // Seconds taken by the minimal products of a forward+backward call (see the header's
    // circleloss_measure_product_floor), run by OpenBLAS with this session's thread count.
    double measure_product_floor(const ResolvedProblem& problem);

    // The worker threads used when the session asks for 0 (one per hardware thread).
    static int default_num_threads();
    // "OpenBLAS <version/config>, kernel <core>; CPU features: ..." for diagnostics.
    static std::string gemm_and_cpu_description();
    static PlanPolicy plan_policy_from_environment();

private:
    ThreadPool pool_;
    uint64_t workspace_limit_bytes_;
    PlanPolicy plan_policy_;
    BufferCache buffers_;
};

}  // namespace cpu
}  // namespace circleloss
