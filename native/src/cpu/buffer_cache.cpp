// Scratch buffers a session keeps between calls (see cpu_backend.h).
#include <algorithm>
#include <memory>
#include <mutex>
#include <new>

#include "cpu/cpu_backend.h"

namespace circleloss {
namespace cpu {

BufferCache::Lease BufferCache::acquire(size_t bytes) {
    if (bytes == 0) return Lease(nullptr, 0, nullptr);
    if (bytes >= kMinCachedBytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        // The smallest cached buffer that is large enough.
        auto best = cached_.end();
        for (auto it = cached_.begin(); it != cached_.end(); ++it) {
            if (it->bytes >= bytes && (best == cached_.end() || it->bytes < best->bytes)) best = it;
        }
        if (best != cached_.end()) {
            Lease lease(this, best->bytes, std::move(best->data));
            cached_.erase(best);
            return lease;
        }
    }
    // Default-initialised: no memset of memory that is written before it is read.
    return Lease(this, bytes, std::unique_ptr<unsigned char[]>(new unsigned char[bytes]));
}

void BufferCache::give_back(size_t bytes, std::unique_ptr<unsigned char[]> data) {
    if (bytes < kMinCachedBytes) return;  // freed here
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_.size() < kMaxCached) {
        cached_.push_back(Cached{bytes, std::move(data)});
        return;
    }
    // Full: keep the larger buffers.
    auto smallest = cached_.begin();
    for (auto it = cached_.begin(); it != cached_.end(); ++it) {
        if (it->bytes < smallest->bytes) smallest = it;
    }
    if (bytes > smallest->bytes) *smallest = Cached{bytes, std::move(data)};
}

}  // namespace cpu
}  // namespace circleloss
