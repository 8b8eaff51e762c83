#include "cpu/thread_pool.h"

#include <atomic>
#include <chrono>
#include <exception>

#include "cpu/phase_timers.h"
#include "platform/platform.h"

namespace circleloss {
namespace cpu {
namespace {

// How long a thread that has run out of work keeps watching for more before it sleeps. A call runs
// several parallel loops a few microseconds apart; a thread that went to sleep in between would be
// woken for each (tens to hundreds of microseconds on a virtual machine whose idle CPU the host has
// parked), so the loops of one call must find their workers awake. After the call they sleep.
constexpr std::chrono::microseconds kSpinBeforeSleep{300};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spins until ready() or the spin time is over; true if ready() became true.
template <class Ready>
bool spin_until(Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    for (int i = 0;; ++i) {
        if (ready()) return true;
        cpu_relax();
        // Read the clock only now and then, and give way to other threads (one core, a debugger's or
        // valgrind's serialised threads) while spinning.
        if ((i & 63) == 63) {
            if (std::chrono::steady_clock::now() >= deadline) return ready();
            std::this_thread::yield();
        }
    }
}

}  // namespace

struct ThreadPool::Job {
    const std::function<void(int64_t, int)>* task = nullptr;
    int64_t count = 0;
    int participants = 1;
    std::atomic<int64_t> next_index{0};
    std::atomic<int> next_slot{1};  // slot 0 is the caller's
    std::atomic<bool> failed{false};
    std::atomic<int> active{0};  // participants that joined and have not left yet
    std::mutex mutex;            // guards error, and the wait for active == 0
    std::condition_variable finished;
    std::exception_ptr error;
#if defined(CIRCLELOSS_PHASE_TIMERS)
    uint64_t queued_ns = phases::now_ns();
#endif
};

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads < 1 ? 1 : num_threads) {
    workers_.reserve(static_cast<size_t>(num_threads_ - 1));
    for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        queued_.store(-1, std::memory_order_release);  // spinning workers look at the queue
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
    if (job.active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // Under the mutex, so that a caller between its check and its wait cannot miss the notification.
        std::lock_guard<std::mutex> lock(job.mutex);
        job.finished.notify_all();
    }
}

void ThreadPool::worker_loop() {
    for (;;) {
        // Watch for work a while before sleeping (kSpinBeforeSleep).
        spin_until([this] { return queued_.load(std::memory_order_acquire) != 0; });
        std::shared_ptr<Job> job;
        int slot = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!stopping_ && queue_.empty()) {
                ++sleeping_;
                wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                --sleeping_;
            }
            if (stopping_) return;
            job = queue_.front();
            slot = job->next_slot.fetch_add(1);
            if (slot + 1 >= job->participants) {  // the job needs nobody else
                queue_.pop_front();
                publish_queue_size_locked();
            }
            if (slot >= job->participants) continue;
            job->active.fetch_add(1, std::memory_order_acq_rel);
        }
#if defined(CIRCLELOSS_PHASE_TIMERS)
        if (slot == 1) phases::add(phases::kWorkerWake, phases::now_ns() - job->queued_ns);
#endif
        run_job(*job, slot);
    }
}

void ThreadPool::publish_queue_size_locked() {
    queued_.store(static_cast<int64_t>(queue_.size()), std::memory_order_release);
}

// A scheduler that packs threads onto few CPUs (as some virtual machines' kernels do) may queue a woken
// worker behind the very thread that waits for it, which then does the whole loop alone: workers are
// kept off the CPU of the thread that hands them work (re-placed only when that thread has moved).
void ThreadPool::keep_workers_off_locked(int cpu) {
    if (cpu < 0 || cpu == avoided_cpu_) return;
    for (auto& w : workers_) placement_.keep_off(w, cpu);
    avoided_cpu_ = cpu;
}

void ThreadPool::parallel_for(int64_t count, int max_participants, const std::function<void(int64_t, int)>& task) {
    if (count <= 0) return;
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->count = count;
    const int limit = max_participants < 1 ? 1 : (max_participants < num_threads_ ? max_participants : num_threads_);
    job->participants = participants_for(limit, count);
    job->active.store(1, std::memory_order_relaxed);  // the caller
    if (job->participants > 1) {
        int sleeping = 0;
        const int cpu = platform::current_cpu();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            keep_workers_off_locked(cpu);
            queue_.push_back(job);
            publish_queue_size_locked();
            sleeping = sleeping_;
        }
        // Spinning workers see the queue themselves; only sleeping ones need the system call.
        if (sleeping == 1 || (sleeping > 1 && job->participants == 2)) {
            wake_.notify_one();
        } else if (sleeping > 1) {
            wake_.notify_all();
        }
    }
    run_job(*job, 0);
    // The workers usually finish within microseconds of the caller: watch before sleeping.
    if (!spin_until([&] { return job->active.load(std::memory_order_acquire) == 0; })) {
        std::unique_lock<std::mutex> lock(job->mutex);
        job->finished.wait(lock, [&] { return job->active.load(std::memory_order_acquire) == 0; });
    }
    if (job->participants > 1) {
        // Late workers may still find the job queued; remove it so none joins after we return.
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            if (*it == job) {
                queue_.erase(it);
                publish_queue_size_locked();
                break;
            }
        }
    }
    if (job->error) std::rethrow_exception(job->error);
}

}  // namespace cpu
}  // namespace circleloss
