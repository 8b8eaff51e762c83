// The CPU backend: similarity tiles by OpenBLAS GEMM, the per-pair math fused over each tile, rows and
// column tiles spread over the session's thread pool. Nothing of size n×m is ever allocated: forward
// keeps an online log-sum-exp per row, backward recomputes each tile and multiplies it out at once.
#pragma once

#include <cstdint>
#include <string>

#include "circleloss/circleloss.h"
#include "cpu/thread_pool.h"
#include "validation.h"

namespace circleloss {
namespace cpu {

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

    // The worker threads used when the session asks for 0 (one per hardware thread).
    static int default_num_threads();
    // "OpenBLAS <version/config>, kernel <core>; CPU features: ..." for diagnostics.
    static std::string gemm_and_cpu_description();

private:
    ThreadPool pool_;
    uint64_t workspace_limit_bytes_;
};

}  // namespace cpu
}  // namespace circleloss
