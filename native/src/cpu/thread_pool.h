// A small fork-join pool owned by a CPU session. Several threads may call parallel_for on the same
// pool at once: each call is a job that the pool's workers and the calling thread share. Workers out of
// work watch the queue for a short while before they sleep, so that the several loops of one call do
// not wait for sleeping threads to be woken (thread_pool.cpp).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/platform.h"

namespace circleloss {
namespace cpu {

class ThreadPool {
public:
    // `num_threads` participants per job in total, the calling thread included.
    explicit ThreadPool(int num_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int num_threads() const { return num_threads_; }

    // Runs task(index, slot) for every index in [0, count). `slot` in [0, participants) identifies the
    // participant, so a task can use per-participant scratch; participants = min(num_threads, count).
    // Which participant runs which index is unspecified: results must not depend on it.
    // The first exception thrown by a task is rethrown here after all tasks have stopped.
    void parallel_for(int64_t count, const std::function<void(int64_t index, int slot)>& task) {
        parallel_for(count, num_threads_, task);
    }
    // The same with at most `max_participants` participants (clamped to [1, num_threads]).
    void parallel_for(int64_t count, int max_participants, const std::function<void(int64_t index, int slot)>& task);

    static int participants_for(int num_threads, int64_t count) {
        return static_cast<int>(count < num_threads ? (count < 1 ? 1 : count) : num_threads);
    }

private:
    struct Job;
    void worker_loop();
    static void run_job(Job& job, int slot);
    void publish_queue_size_locked();  // queued_ = queue_.size(), for the spinning workers
    void keep_workers_off_locked(int cpu);

    int num_threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false;
    int sleeping_ = 0;                // workers waiting on wake_ (guarded by mutex_)
    int avoided_cpu_ = -1;            // the CPU the workers are kept off (guarded by mutex_)
    platform::ThreadPlacement placement_;  // the CPUs the workers may use
    std::atomic<int64_t> queued_{0};  // queue_.size() for spinning workers; -1 when stopping
    std::vector<std::thread> workers_;
};

}  // namespace cpu
}  // namespace circleloss
