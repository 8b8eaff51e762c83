#include "cpu/thread_pool.h"

#include <atomic>
#include <exception>

namespace circleloss {
namespace cpu {

struct ThreadPool::Job {
    const std::function<void(int64_t, int)>* task = nullptr;
    int64_t count = 0;
    int participants = 1;
    std::atomic<int64_t> next_index{0};
    std::atomic<int> next_slot{1};  // slot 0 is the caller's
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::condition_variable finished;
    int active = 0;  // participants that joined and have not left yet (guarded by mutex)
    std::exception_ptr error;
};

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads < 1 ? 1 : num_threads) {
    workers_.reserve(static_cast<size_t>(num_threads_ - 1));
    for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

void ThreadPool::run_job(Job& job, int slot) {
    for (;;) {
        if (job.failed.load(std::memory_order_relaxed)) break;
        const int64_t index = job.next_index.fetch_add(1, std::memory_order_relaxed);
        if (index >= job.count) break;
        try {
            (*job.task)(index, slot);
        } catch (...) {
            std::lock_guard<std::mutex> lock(job.mutex);
            if (!job.error) job.error = std::current_exception();
            job.failed.store(true, std::memory_order_relaxed);
        }
    }
    std::lock_guard<std::mutex> lock(job.mutex);
    if (--job.active == 0) job.finished.notify_all();
}

void ThreadPool::worker_loop() {
    for (;;) {
        std::shared_ptr<Job> job;
        int slot = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = queue_.front();
            slot = job->next_slot.fetch_add(1);
            if (slot + 1 >= job->participants) queue_.pop_front();  // the job needs nobody else
            if (slot >= job->participants) continue;
            std::lock_guard<std::mutex> job_lock(job->mutex);
            ++job->active;
        }
        run_job(*job, slot);
    }
}

void ThreadPool::parallel_for(int64_t count, int max_participants, const std::function<void(int64_t, int)>& task) {
    if (count <= 0) return;
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->count = count;
    const int limit = max_participants < 1 ? 1 : (max_participants < num_threads_ ? max_participants : num_threads_);
    job->participants = participants_for(limit, count);
    job->active = 1;  // the caller
    if (job->participants > 1) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            queue_.push_back(job);
        }
        if (job->participants == 2) {
            wake_.notify_one();
        } else {
            wake_.notify_all();
        }
    }
    run_job(*job, 0);
    {
        std::unique_lock<std::mutex> lock(job->mutex);
        job->finished.wait(lock, [&] { return job->active == 0; });
    }
    if (job->participants > 1) {
        // Late workers may still find the job queued; remove it so none joins after we return.
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            if (*it == job) {
                queue_.erase(it);
                break;
            }
        }
    }
    if (job->error) std::rethrow_exception(job->error);
}

}  // namespace cpu
}  // namespace circleloss
