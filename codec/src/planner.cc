#include "planner.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parallel.h"
#include "qoi_ops.h"
#include "signature.h"

namespace qohi {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// Groups up to this size consider every other member as a candidate; larger
// ones only the neighbourhoods below, so that no pass is quadratic.
constexpr size_t kSmallGroup = 48;
// Random-projection tree orders searched for candidates, and the
// neighbours taken on each side of an image in each.
constexpr unsigned kTrees = 4;
constexpr size_t kWindow = 8;
// Ancestors scored when an image must leave a chain that is too deep.
constexpr unsigned kAncestorTries = 3;
// Same limit as the writer's max_depth: a plan must be writable.
constexpr uint32_t kMaxPlanDepth = 0xFFFF;

struct Settings {
    int mode;
    uint32_t keyframe_interval;
    uint32_t max_depth;
    uint32_t candidates;
    uint64_t memory;
    unsigned threads;
};

bool is_baseline(const qohi_plan_image& im) { return im.baseline != 0; }

size_t image_bytes(const qohi_plan_image& im) { return size_t(im.width) * im.height * im.channels; }

// Reports progress at most kSteps + 1 times per stage: whenever another
// 1/kSteps of the stage is done, and once at its end.
class Progress {
public:
    Progress(void (*fn)(void*, const char*, uint64_t, uint64_t), void* user) : fn_(fn), user_(user) {}

    void report(const char* stage, uint64_t done, uint64_t total) {
        if (!fn_) return;
        const uint64_t step = done >= total ? kSteps : done * kSteps / total;
        if (stage == stage_ && step == step_) return;
        stage_ = stage;
        step_ = step;
        fn_(user_, stage, done, total);
    }

private:
    static constexpr uint64_t kSteps = 64;
    void (*fn_)(void*, const char*, uint64_t, uint64_t);
    void* user_;
    const char* stage_ = nullptr;
    uint64_t step_ = 0;
};

// Images grouped by (width, height, channels): only images of one group can
// refer to each other. Groups are numbered in order of first appearance and
// list their members in input order.
struct Groups {
    std::vector<std::vector<uint32_t>> members;
};

Groups make_groups(const qohi_plan_image* images, uint32_t count) {
    Groups g;
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint32_t> ids;
    for (uint32_t i = 0; i < count; ++i) {
        const auto key = std::make_tuple(images[i].width, images[i].height, images[i].channels);
        auto it = ids.find(key);
        if (it == ids.end()) {
            it = ids.emplace(key, uint32_t(g.members.size())).first;
            g.members.emplace_back();
        }
        g.members[it->second].push_back(i);
    }
    for (std::vector<uint32_t>& m : g.members) m.shrink_to_fit();
    return g;
}

// Writes the baselines first (intra, input order); returns how many.
int64_t emit_baselines(const qohi_plan_image* images, uint32_t count, std::vector<int64_t>& pos,
                       qohi_plan_entry* out) {
    int64_t k = 0;
    for (uint32_t i = 0; i < count; ++i)
        if (is_baseline(images[i])) {
            pos[i] = k;
            out[k++] = {i, -1};
        }
    return k;
}

// Output in input order, baselines first. Every reference must be a
// baseline or an earlier image in input order.
void emit_input_order(const qohi_plan_image* images, uint32_t count, const std::vector<uint32_t>& parent,
                      qohi_plan_entry* out) {
    std::vector<int64_t> pos(count, -1);
    int64_t k = emit_baselines(images, count, pos, out);
    for (uint32_t i = 0; i < count; ++i)
        if (!is_baseline(images[i])) {
            pos[i] = k;
            out[k++] = {i, parent[i] == kNone ? -1 : pos[parent[i]]};
        }
}

// Output of a reference forest: baselines first (input order), then each
// tree in breadth-first order from its root, siblings in input order. Trees
// come in the input order of their first member. Baselines must be roots.
void emit_forest(const qohi_plan_image* images, uint32_t count, const std::vector<uint32_t>& parent,
                 qohi_plan_entry* out) {
    // Children in input order (CSR).
    std::vector<uint32_t> first(size_t(count) + 1, 0), children(count);
    for (uint32_t i = 0; i < count; ++i)
        if (parent[i] != kNone) ++first[parent[i] + 1];
    for (uint32_t i = 0; i < count; ++i) first[i + 1] += first[i];
    {
        std::vector<uint32_t> fill(first.begin(), first.end() - 1);
        for (uint32_t i = 0; i < count; ++i)
            if (parent[i] != kNone) children[fill[parent[i]]++] = i;
    }
    // Root of every image, following parents (memoised along the path).
    std::vector<uint32_t> root(count, kNone), path;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t v = i;
        path.clear();
        while (root[v] == kNone && parent[v] != kNone) {
            path.push_back(v);
            v = parent[v];
        }
        const uint32_t r = root[v] == kNone ? v : root[v];
        root[v] = r;
        for (uint32_t p : path) root[p] = r;
    }
    std::vector<int64_t> pos(count, -1);
    int64_t k = emit_baselines(images, count, pos, out);
    std::vector<char> tree_seen(count, 0);
    std::vector<uint32_t> queue;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t r = root[i];
        if (tree_seen[r]) continue;
        tree_seen[r] = 1;
        queue.assign(1, r);
        for (size_t q = 0; q < queue.size(); ++q) {
            const uint32_t v = queue[q];
            if (!is_baseline(images[v])) {
                pos[v] = k;
                out[k++] = {v, parent[v] == kNone ? -1 : pos[parent[v]]};
            }
            for (uint32_t c = first[v]; c < first[v + 1]; ++c) queue.push_back(children[c]);
        }
    }
}

// PRIOR, KEYFRAME, FIRST and NONE: references from input order alone.
void plan_simple(const qohi_plan_image* images, const Groups& groups, const Settings& s,
                 std::vector<uint32_t>& parent) {
    for (const std::vector<uint32_t>& members : groups.members) {
        if (s.mode == QOHI_PLAN_NONE) continue;
        if (s.mode == QOHI_PLAN_FIRST) {
            // The group's first baseline, else its first image; depth 1.
            uint32_t anchor = members.front();
            for (uint32_t m : members)
                if (is_baseline(images[m])) {
                    anchor = m;
                    break;
                }
            for (uint32_t m : members)
                if (m != anchor && !is_baseline(images[m])) parent[m] = anchor;
            continue;
        }
        // PRIOR and KEYFRAME: a chain through the group in input order. An
        // image is intra when it is a baseline, the group's first image, the
        // keyframe_interval-th image since the last intra one (KEYFRAME), or
        // when referring to the previous image would exceed max_depth.
        const uint64_t interval =
            s.mode == QOHI_PLAN_KEYFRAME ? s.keyframe_interval : std::numeric_limits<uint64_t>::max();
        uint32_t prev = kNone, prev_depth = 0;
        uint64_t run = 0;  // images since the last intra one, that one included
        for (uint32_t m : members) {
            const bool intra =
                is_baseline(images[m]) || prev == kNone || run >= interval || prev_depth + 1 > s.max_depth;
            if (intra) {
                run = 1;
                prev_depth = 0;
            } else {
                parent[m] = prev;
                ++run;
                ++prev_depth;
            }
            prev = m;
        }
    }
}

// Keeps recently used images' pixels within a byte budget. Buffers handed
// out stay valid while the caller holds them, even if evicted meanwhile, so
// memory is bounded by the budget plus the images being compared (two per
// thread). Safe to share between threads; the loader runs outside the lock,
// so with several threads it is called for several images at once.
class PixelCache {
public:
    using Pixels = std::shared_ptr<const std::vector<uint8_t>>;

    PixelCache(const qohi_plan_image* images, qohi_plan_loader load, void* user, uint64_t budget,
               PlanStats& stats)
        : images_(images), load_(load), user_(user), budget_(budget), stats_(stats) {}

    Status get(uint32_t image, Pixels& out) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            const auto it = map_.find(image);
            if (it != map_.end()) {
                lru_.splice(lru_.begin(), lru_, it->second.pos);
                out = it->second.pixels;
                return ok_status();
            }
            ++stats_.loads;
        }
        const size_t size = image_bytes(images_[image]);
        auto buffer = std::make_shared<std::vector<uint8_t>>(size);
        const qohi_status s = load_(user_, image, buffer->data(), size);
        if (s != QOHI_OK)
            return Status(s, "loading image " + std::to_string(image) + " failed: " + qohi_status_string(s));
        out = buffer;
        std::lock_guard<std::mutex> lock(mutex_);
        if (size <= budget_ && map_.find(image) == map_.end()) {
            lru_.push_front(image);
            map_.emplace(image, Entry{buffer, lru_.begin()});
            bytes_ += size;
            while (bytes_ > budget_) {
                const uint32_t victim = lru_.back();
                lru_.pop_back();
                const auto v = map_.find(victim);
                bytes_ -= v->second.pixels->size();
                map_.erase(v);
            }
        }
        return ok_status();
    }

private:
    struct Entry {
        Pixels pixels;
        std::list<uint32_t>::iterator pos;
    };
    const qohi_plan_image* images_;
    qohi_plan_loader load_;
    void* user_;
    uint64_t budget_;
    PlanStats& stats_;
    std::mutex mutex_;
    uint64_t bytes_ = 0;
    std::list<uint32_t> lru_;  // most recently used first
    std::unordered_map<uint32_t, Entry> map_;
};

// What the candidate search keeps of every image: the signature's 8x8 grid
// averaged to 4x4 cells, 64 bytes (300,000 images: 19 MB).
struct Sketch {
    static constexpr unsigned kCells = 4;
    std::array<uint8_t, kCells * kCells * 4> v{};
};
static_assert(Signature::kGrid == 2 * Sketch::kCells, "a sketch cell is 2x2 signature cells");

Sketch sketch_of(const Signature& s) {
    constexpr unsigned G = Signature::kGrid, C = Sketch::kCells;
    Sketch k;
    for (unsigned y = 0; y < C; ++y)
        for (unsigned x = 0; x < C; ++x)
            for (unsigned c = 0; c < 4; ++c) {
                unsigned sum = 0;
                for (unsigned dy = 0; dy < 2; ++dy)
                    for (unsigned dx = 0; dx < 2; ++dx) sum += s.cells[((2 * y + dy) * G + 2 * x + dx) * 4 + c];
                k.v[(y * C + x) * 4 + c] = uint8_t((sum + 2) / 4);
            }
    return k;
}

uint32_t sketch_distance(const Sketch& a, const Sketch& b) {
    uint32_t d = 0;
    for (size_t i = 0; i < a.v.size(); ++i) d += uint32_t(std::abs(int(a.v[i]) - int(b.v[i])));
    return d;
}

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Orders `items` (image indices) so that images with close sketches are
// near each other: a random-projection tree whose leaves are read in order.
// Every range is split at the median of its members' projections onto the
// difference of two of its members (a direction that follows the data, as
// in Annoy's trees), each half then split the same way. Nearness in this
// order is nearness along every direction that the splits used, so an
// image's neighbours in it stay its true neighbours however large the
// collection: a single sorted projection does not (measured: the nearest
// sketch was among an image's candidates for 50% of the images at 20,000
// and 25% at 100,000 with 8 projections of +-16). `keyed` is scratch.
void tree_order(std::vector<uint32_t>& items, const std::vector<Sketch>& sketch, uint64_t seed, unsigned threads,
                std::vector<std::pair<int32_t, uint32_t>>& keyed) {
    constexpr unsigned kBytes = sizeof(Sketch::v);
    keyed.resize(items.size());
    // Splits [lo, hi) in two halves; each range's split depends only on the
    // range, so ranges can be split in any order, on any thread.
    const auto split = [&](size_t lo, size_t hi) {
        const size_t n = hi - lo;
        uint64_t state = seed ^ (uint64_t(lo) * 0x100000001B3ULL) ^ (uint64_t(n) << 40);
        int32_t direction[kBytes];
        bool nonzero = false;
        for (unsigned attempt = 0; attempt < 4 && !nonzero; ++attempt) {
            const Sketch& p = sketch[items[lo + splitmix64(state) % n]];
            const Sketch& q = sketch[items[lo + splitmix64(state) % n]];
            for (unsigned k = 0; k < kBytes; ++k) {
                direction[k] = int32_t(p.v[k]) - int32_t(q.v[k]);
                nonzero = nonzero || direction[k] != 0;
            }
        }
        if (!nonzero)  // the two picked were alike every time: a random direction
            for (unsigned k = 0; k < kBytes; ++k) direction[k] = int32_t(splitmix64(state) % 129) - 64;
        for (size_t i = lo; i < hi; ++i) {
            const Sketch& s = sketch[items[i]];
            int32_t key = 0;  // |key| <= 64 * 255 * 255: no overflow
            for (unsigned k = 0; k < kBytes; ++k) key += direction[k] * int32_t(s.v[k]);
            keyed[i] = {key, items[i]};
        }
        const size_t mid = lo + n / 2;
        std::nth_element(keyed.begin() + long(lo), keyed.begin() + long(mid), keyed.begin() + long(hi));
        for (size_t i = lo; i < hi; ++i) items[i] = keyed[i].second;
        return mid;
    };
    // The top levels one range at a time, until there are ranges enough to
    // share between the threads; then each range's subtree on one thread.
    std::vector<std::pair<size_t, size_t>> ranges{{0, items.size()}}, next;
    while (ranges.size() < size_t(threads) * 8) {
        next.clear();
        for (const auto& r : ranges) {
            if (r.second - r.first <= 2) {
                next.push_back(r);
                continue;
            }
            const size_t mid = split(r.first, r.second);
            next.emplace_back(r.first, mid);
            next.emplace_back(mid, r.second);
        }
        if (next.size() == ranges.size()) break;  // all split down to pairs
        ranges.swap(next);
    }
    parallel_for(uint32_t(ranges.size()), threads, [&](uint32_t r) {
        std::vector<std::pair<size_t, size_t>> stack{ranges[r]};
        while (!stack.empty()) {
            const size_t lo = stack.back().first, hi = stack.back().second;
            stack.pop_back();
            if (hi - lo <= 2) continue;
            const size_t mid = split(lo, hi);
            stack.emplace_back(mid, hi);
            stack.emplace_back(lo, mid);
        }
    });
}

// Calls task(i) for i in [0, count) on `threads` threads in chunks, and
// `progress` on the calling thread only (hosts may require it). Returns the
// error of the first failing chunk in index order; chunks after a failure
// may not run.
template <class Task>
Status run_chunks(uint32_t count, unsigned threads, Task task, const std::function<void(uint64_t)>& progress) {
    constexpr uint32_t kChunk = 64;
    const uint32_t chunks = (count + kChunk - 1) / kChunk;
    std::vector<Status> status(chunks);
    std::atomic<bool> failed{false};
    std::atomic<uint64_t> done{0};
    const std::thread::id caller = std::this_thread::get_id();
    parallel_for(chunks, threads, [&](uint32_t c) {
        if (failed.load(std::memory_order_relaxed)) return;
        const uint32_t end = std::min(count, (c + 1) * kChunk);
        for (uint32_t i = c * kChunk; i < end; ++i) {
            Status s = task(i);
            if (!s.ok()) {
                status[c] = std::move(s);
                failed = true;
                return;
            }
        }
        const uint64_t now = done.fetch_add(end - c * kChunk) + (end - c * kChunk);
        if (std::this_thread::get_id() == caller) progress(now);
    });
    for (Status& s : status)
        if (!s.ok()) return std::move(s);
    return ok_status();
}

// QOHI_PLAN_AUTO.
class AutoPlanner {
public:
    AutoPlanner(const qohi_plan_image* images, uint32_t count, const Groups& groups, const Settings& settings,
                PixelCache& cache, Progress& progress, PlanStats& stats)
        : images_(images),
          count_(count),
          groups_(groups),
          settings_(settings),
          cache_(cache),
          progress_(progress),
          stats_(stats) {}

    Status run(std::vector<uint32_t>& parent) {
        QOHI_RETURN_IF_ERROR(analyse());
        find_candidates();
        QOHI_RETURN_IF_ERROR(score_candidates());
        return build_forest(parent);
    }

    // Bytes the planner keeps per image at its peak (while searching for
    // candidates): the arrays below, a tree order and its scratch, the
    // image's place in its group, its reference.
    static uint64_t state_bytes_per_image(uint32_t candidates) {
        return sizeof(Sketch) + uint64_t(candidates) * sizeof(Slot) + sizeof(uint64_t) + 1 + 4 +
               (4 + sizeof(std::pair<int32_t, uint32_t>)) + 4 + 4;
    }

private:
    // A candidate reference of an image: `value` is the sketch distance
    // while searching, then the estimated saving in bits (intra cost minus
    // the cost against `ref`, saturated to 32 bits).
    struct Slot {
        uint32_t ref;
        int32_t value;
    };

    static int32_t saturate(int64_t v) {
        return int32_t(std::max<int64_t>(std::min<int64_t>(v, INT32_MAX), INT32_MIN));
    }

    // A delta is worth planning when its estimated saving is clearly
    // positive: more than 1/32 of the subject's intra cost plus 64 bits. The
    // estimate of an unrelated reference differs from the intra estimate by
    // about 1% either way (different code tables, sampled rows), and a
    // delta frame costs a longer decode; a margin keeps such images intra.
    bool worthwhile(uint32_t subject, int64_t saving) const {
        return saving > int64_t(intra_[subject] / 32) + 64;
    }

    Slot* slots(uint32_t image) { return &slots_[size_t(image) * settings_.candidates]; }
    const Slot* slots(uint32_t image) const { return &slots_[size_t(image) * settings_.candidates]; }

    // Step 1 and 2: one pass loading every image that could take part in a
    // reference (group of two or more with a non-baseline member): its
    // sketch and, unless it is a baseline (always intra), its intra cost.
    Status analyse() {
        active_.assign(count_, 0);
        for (const std::vector<uint32_t>& members : groups_.members) {
            if (members.size() < 2) continue;
            bool any_free = false;
            for (uint32_t m : members) any_free = any_free || !is_baseline(images_[m]);
            if (!any_free) continue;
            for (uint32_t m : members) active_[m] = 1;
        }
        std::vector<uint32_t> work;
        for (uint32_t i = 0; i < count_; ++i)
            if (active_[i]) work.push_back(i);
        sketches_.assign(count_, Sketch());
        intra_.assign(count_, 0);
        const uint64_t total = work.size();
        progress_.report("signatures", 0, total);
        const Status done_status = run_chunks(
            uint32_t(work.size()), settings_.threads,
            [&](uint32_t k) -> Status {
                const uint32_t i = work[k];
                const qohi_plan_image& im = images_[i];
                PixelCache::Pixels px;
                QOHI_RETURN_IF_ERROR(cache_.get(i, px));
                const size_t row = size_t(im.width) * im.channels;
                sketches_[i] = sketch_of(compute_signature(px->data(), row, im.width, im.height, im.channels));
                if (!is_baseline(im))
                    intra_[i] = estimate_band_bits(px->data(), row, nullptr, 0, im.width, im.height, im.channels);
                return ok_status();
            },
            [&](uint64_t done) { progress_.report("signatures", done, total); });
        if (!done_status.ok()) return done_status;
        progress_.report("signatures", total, total);
        return ok_status();
    }

    // Offers `ref` as a candidate of `subject`: the slots keep the
    // `candidates` nearest sketches, ties going to the nearer image in input
    // order, then the lower index.
    void offer(uint32_t subject, uint32_t ref) {
        Slot* s = slots(subject);
        const uint32_t n = settings_.candidates;
        uint32_t used = 0;
        while (used < n && s[used].ref != kNone) {
            if (s[used].ref == ref) return;
            ++used;
        }
        const auto key = [&](uint32_t r, int32_t d) {
            return std::make_tuple(d, subject > r ? subject - r : r - subject, r);
        };
        const int32_t d = int32_t(sketch_distance(sketches_[subject], sketches_[ref]));
        const auto k = key(ref, d);
        if (used == n && !(k < key(s[n - 1].ref, s[n - 1].value))) return;
        uint32_t at = used == n ? n - 1 : used;
        while (at > 0 && k < key(s[at - 1].ref, s[at - 1].value)) {
            s[at] = s[at - 1];
            --at;
        }
        s[at] = {ref, d};
    }

    // Step 3: candidate references of every non-baseline image of a group,
    // without comparing all pairs. Small groups: every other member. Larger
    // ones: the previous and next member in input order, and the kWindow
    // members on each side in each of kTrees random-projection tree orders
    // (tree_order). Of those, the `candidates` nearest sketches are kept.
    // Subjects are then scored in the first tree's order (similar images
    // together, so that candidates tend to be in the pixel cache).
    void find_candidates() {
        slots_.assign(size_t(count_) * settings_.candidates, Slot{kNone, 0});
        scoring_order_.clear();
        std::vector<uint32_t> order;
        std::vector<std::pair<int32_t, uint32_t>> keyed;
        for (const std::vector<uint32_t>& members : groups_.members) {
            if (!active_[members.front()]) continue;
            const size_t n = members.size();
            if (n <= kSmallGroup) {
                for (uint32_t a : members) {
                    if (is_baseline(images_[a])) continue;
                    for (uint32_t b : members)
                        if (b != a) offer(a, b);
                    scoring_order_.push_back(a);
                }
                continue;
            }
            for (size_t r = 0; r < n; ++r) {
                const uint32_t a = members[r];
                if (is_baseline(images_[a])) continue;
                if (r > 0) offer(a, members[r - 1]);
                if (r + 1 < n) offer(a, members[r + 1]);
            }
            for (unsigned t = 0; t < kTrees; ++t) {
                order = members;
                tree_order(order, sketches_, 0x51A7E5EEDULL + t, settings_.threads, keyed);
                parallel_for(uint32_t((n + 1023) / 1024), settings_.threads, [&](uint32_t c) {
                    const size_t end = std::min(n, size_t(c + 1) * 1024);
                    for (size_t r = size_t(c) * 1024; r < end; ++r) {
                        const uint32_t a = order[r];
                        if (is_baseline(images_[a])) continue;
                        const size_t lo = r >= kWindow ? r - kWindow : 0, hi = std::min(n - 1, r + kWindow);
                        for (size_t q = lo; q <= hi; ++q)
                            if (q != r) offer(a, order[q]);
                    }
                });
                if (t == 0)
                    for (uint32_t a : order)
                        if (!is_baseline(images_[a])) scoring_order_.push_back(a);
            }
        }
        std::vector<Sketch>().swap(sketches_);
        std::vector<std::pair<int32_t, uint32_t>>().swap(keyed);
    }

    // Estimated saving of `subject` coded against `ref`, in bits.
    Status score(uint32_t subject, uint32_t ref, int64_t& saving) {
        PixelCache::Pixels px, rx;
        QOHI_RETURN_IF_ERROR(cache_.get(subject, px));
        QOHI_RETURN_IF_ERROR(cache_.get(ref, rx));
        const qohi_plan_image& im = images_[subject];
        const size_t row = size_t(im.width) * im.channels;
        const uint64_t bits =
            estimate_band_bits(px->data(), row, rx->data(), row, im.width, im.height, im.channels);
        scored_pairs_.fetch_add(1, std::memory_order_relaxed);
        saving = int64_t(intra_[subject]) - int64_t(bits);
        return ok_status();
    }

    // Step 4: each candidate is scored exactly in the direction subject ->
    // candidate; the slots then hold savings, largest first.
    Status score_candidates() {
        const uint64_t total = scoring_order_.size();
        progress_.report("scoring", 0, total);
        const uint32_t n = settings_.candidates;
        const Status done_status = run_chunks(
            uint32_t(scoring_order_.size()), settings_.threads,
            [&](uint32_t k) -> Status {
                const uint32_t subject = scoring_order_[k];
                Slot* s = slots(subject);
                for (uint32_t c = 0; c < n && s[c].ref != kNone; ++c) {
                    int64_t saving = 0;
                    QOHI_RETURN_IF_ERROR(score(subject, s[c].ref, saving));
                    s[c].value = saturate(saving);
                }
                std::stable_sort(s, s + n, [](const Slot& x, const Slot& y) {
                    if ((x.ref == kNone) != (y.ref == kNone)) return y.ref == kNone;
                    return x.value != y.value ? x.value > y.value : x.ref < y.ref;
                });
                return ok_status();
            },
            [&](uint64_t done) { progress_.report("scoring", done, total); });
        if (!done_status.ok()) return done_status;
        progress_.report("scoring", total, total);
        std::vector<uint32_t>().swap(scoring_order_);
        stats_.scored_pairs = scored_pairs_.load();
        return ok_status();
    }

    const Slot* find_slot(uint32_t subject, uint32_t ref) const {
        const Slot* s = slots(subject);
        for (uint32_t c = 0; c < settings_.candidates && s[c].ref != kNone; ++c)
            if (s[c].ref == ref) return &s[c];
        return nullptr;
    }

    uint32_t find(uint32_t v) {
        while (uf_[v] != v) {
            uf_[v] = uf_[uf_[v]];
            v = uf_[v];
        }
        return v;
    }

    // Steps 5 and 6.
    Status build_forest(std::vector<uint32_t>& parent) {
        // Step 5: maximum spanning forest (Kruskal) over the pairs with a
        // worthwhile saving in a scored direction; an edge weighs the best
        // saving known for the pair. Two trees that both hold a baseline are
        // never joined: baselines are intra, so each must be a root.
        // An edge is a scored slot, i * candidates + c (its pair: image i
        // and that slot's reference); a pair scored both ways appears twice
        // and its better direction comes first. Sorted by saving, largest
        // first, then by the pair.
        const uint32_t per_image = settings_.candidates;
        const auto pair_of = [&](uint32_t e) {
            const uint32_t i = e / per_image, r = slots_[e].ref;
            return std::make_pair(std::min(i, r), std::max(i, r));
        };
        std::vector<uint32_t> edges;
        for (uint32_t i = 0; i < count_; ++i) {
            if (!active_[i]) continue;
            const Slot* s = slots(i);
            for (uint32_t c = 0; c < per_image && s[c].ref != kNone; ++c)
                if (worthwhile(i, s[c].value)) edges.push_back(i * per_image + c);
        }
        std::sort(edges.begin(), edges.end(), [&](uint32_t x, uint32_t y) {
            const int32_t wx = slots_[x].value, wy = slots_[y].value;
            if (wx != wy) return wx > wy;
            const auto px = pair_of(x), py = pair_of(y);
            return px != py ? px < py : x < y;
        });
        uf_.resize(count_);
        std::vector<char> has_baseline(count_);
        for (uint32_t i = 0; i < count_; ++i) {
            uf_[i] = i;
            has_baseline[i] = is_baseline(images_[i]);
        }
        std::vector<uint32_t> degree(count_, 0);
        size_t tree_edges = 0;
        for (const uint32_t e : edges) {
            const auto ab = pair_of(e);
            const uint32_t ra = find(ab.first), rb = find(ab.second);
            if (ra == rb || (has_baseline[ra] && has_baseline[rb])) continue;
            uf_[rb] = ra;
            has_baseline[ra] = char(has_baseline[ra] | has_baseline[rb]);
            edges[tree_edges++] = e;  // never ahead of the loop
            ++degree[ab.first];
            ++degree[ab.second];
        }
        edges.resize(tree_edges);
        edges.shrink_to_fit();
        std::vector<char>().swap(has_baseline);
        // Tree adjacency (CSR), neighbours in input order.
        std::vector<uint32_t> first(size_t(count_) + 1, 0), adjacent(edges.size() * 2);
        for (uint32_t i = 0; i < count_; ++i) first[i + 1] = first[i] + degree[i];
        {
            std::vector<uint32_t> fill(first.begin(), first.end() - 1);
            for (const uint32_t e : edges) {
                const auto ab = pair_of(e);
                adjacent[fill[ab.first]++] = ab.second;
                adjacent[fill[ab.second]++] = ab.first;
            }
        }
        std::vector<uint32_t>().swap(edges);
        for (uint32_t i = 0; i < count_; ++i)
            std::sort(adjacent.begin() + first[i], adjacent.begin() + first[i + 1]);

        // Root of each tree: its baseline if it has one, else the member
        // that is cheapest to store whole (smallest intra cost, then lowest
        // index). Edges are oriented away from it, breadth first.
        std::vector<uint32_t> best(count_, kNone);  // per union-find representative
        for (uint32_t i = 0; i < count_; ++i) {
            if (degree[i] == 0) continue;
            uint32_t& b = best[find(i)];
            const auto rank = [&](uint32_t v) { return std::make_tuple(!is_baseline(images_[v]), intra_[v], v); };
            if (b == kNone || rank(i) < rank(b)) b = i;
        }
        std::vector<uint32_t> parent0(count_, kNone), depth0(count_, 0), bfs;
        for (uint32_t i = 0; i < count_; ++i) {
            if (degree[i] == 0 || best[find(i)] != i) continue;
            const size_t start = bfs.size();
            bfs.push_back(i);
            for (size_t q = start; q < bfs.size(); ++q) {
                const uint32_t v = bfs[q];
                for (uint32_t k = first[v]; k < first[v + 1]; ++k) {
                    const uint32_t w = adjacent[k];
                    if (w == parent0[v]) continue;
                    parent0[w] = v;
                    depth0[w] = depth0[v] + 1;
                    bfs.push_back(w);
                }
            }
        }
        std::vector<uint32_t>().swap(best);
        std::vector<uint32_t>().swap(first);
        std::vector<uint32_t>().swap(adjacent);
        std::vector<uint32_t>().swap(degree);
        std::vector<uint32_t>().swap(uf_);

        // Each tree edge needs the saving of child -> parent; the candidate
        // search may have scored only the other direction.
        const uint64_t total = uint64_t(bfs.size()) * 2;
        progress_.report("planning", 0, total);
        std::vector<int32_t> edge_saving(count_, 0);
        const Status done_status = run_chunks(
            uint32_t(bfs.size()), settings_.threads,
            [&](uint32_t k) -> Status {
                const uint32_t v = bfs[k], p = parent0[v];
                if (p == kNone) return ok_status();
                if (const Slot* s = find_slot(v, p)) {
                    edge_saving[v] = s->value;
                    return ok_status();
                }
                int64_t saving = 0;
                QOHI_RETURN_IF_ERROR(score(v, p, saving));
                edge_saving[v] = saturate(saving);
                return ok_status();
            },
            [&](uint64_t done) { progress_.report("planning", done, total); });
        if (!done_status.ok()) return done_status;
        uint64_t done = bfs.size();

        // Step 6: depth bound. Images are placed in order of their depth in
        // the spanning forest (then breadth-first order); roots and images
        // outside any tree are placed first, as intra. An image keeps its
        // forest parent if that saves and leaves its depth within
        // max_depth. Otherwise (too deep, or the saving in this direction is
        // not worthwhile) it re-attaches to the already placed scored
        // candidate with the largest worthwhile saving whose depth is below
        // max_depth; with none, it tries the nearest kAncestorTries
        // ancestors of its forest parent at depth <= max_depth / 2 (scored
        // now; the half leaves its subtree room to grow), and only then
        // becomes intra, the root of its subtree. (Sets benchmark, planner
        // totals at max depth 2 / 8 / 16: 2.92 / 2.43 / 2.41 MB without the
        // ancestor step, 2.75 / 2.38 / 2.37 MB with it.)
        // A re-attached image gets depth at most max_depth and its subtree
        // follows it; images placed earlier are never its descendants, so
        // no cycle can form. Images whose forest depth is within the bound
        // and whose edges all save keep their place.
        std::vector<uint32_t> order = std::move(bfs);
        std::stable_sort(order.begin(), order.end(),
                         [&](uint32_t x, uint32_t y) { return depth0[x] < depth0[y]; });
        std::vector<uint32_t>().swap(depth0);
        std::vector<char> placed(count_, 1);
        std::vector<uint32_t> depth(count_, 0);
        for (uint32_t v : order)
            if (parent0[v] != kNone) placed[v] = 0;
        for (uint32_t v : order) {
            const uint32_t p = parent0[v];
            if (p != kNone) {
                if (worthwhile(v, edge_saving[v]) && depth[p] + 1 <= settings_.max_depth) {
                    parent[v] = p;
                } else {
                    const Slot* alt = nullptr;
                    const Slot* s = slots(v);
                    for (uint32_t c = 0; c < settings_.candidates && s[c].ref != kNone; ++c) {
                        if (s[c].ref == p || !worthwhile(v, s[c].value) || !placed[s[c].ref] ||
                            depth[s[c].ref] + 1 > settings_.max_depth)
                            continue;
                        if (!alt || s[c].value > alt->value || (s[c].value == alt->value && s[c].ref < alt->ref))
                            alt = &s[c];
                    }
                    // No scored candidate fits: try the nearest ancestors
                    // of the forest parent in the upper half of the depth
                    // range (a long chain, such as an animation, then
                    // branches instead of restarting with an intra frame).
                    int64_t chosen_saving = alt ? alt->value : 0;
                    uint32_t chosen = alt ? alt->ref : kNone;
                    unsigned tried = 0;
                    for (uint32_t a = p; !alt && a != kNone && tried < kAncestorTries; a = parent[a]) {
                        if (depth[a] > settings_.max_depth / 2) continue;  // leave the subtree room
                        int64_t saving = 0;
                        QOHI_RETURN_IF_ERROR(score(v, a, saving));
                        ++tried;
                        if (worthwhile(v, saving) && saving > chosen_saving) {
                            chosen_saving = saving;
                            chosen = a;
                        }
                    }
                    parent[v] = chosen;
                }
                depth[v] = parent[v] == kNone ? 0 : depth[parent[v]] + 1;
                placed[v] = 1;
            }
            progress_.report("planning", ++done, total);
        }
        stats_.scored_pairs = scored_pairs_.load();
        return ok_status();
    }

    const qohi_plan_image* images_;
    uint32_t count_;
    const Groups& groups_;
    const Settings& settings_;
    PixelCache& cache_;
    Progress& progress_;
    PlanStats& stats_;
    std::atomic<uint64_t> scored_pairs_{0};

    std::vector<char> active_;
    std::vector<Sketch> sketches_;         // until the candidates are found
    std::vector<uint32_t> scoring_order_;  // until they are scored
    std::vector<uint64_t> intra_;
    std::vector<Slot> slots_;  // `candidates` per image
    std::vector<uint32_t> uf_;
};


Status validate(const qohi_plan_image* images, uint32_t count, qohi_plan_loader load,
                const qohi_plan_options& options, qohi_plan_entry* out) {
    if (!images) return invalid_argument("images is NULL");
    if (!out) return invalid_argument("out is NULL");
    if (options.mode < QOHI_PLAN_AUTO || options.mode > QOHI_PLAN_NONE) return invalid_argument("unknown plan mode");
    if (options.max_depth > kMaxPlanDepth) return invalid_argument("max_depth must be at most 65535");
    if (options.mode == QOHI_PLAN_AUTO && !load) return invalid_argument("loader is NULL");
    if (options.candidates > kMaxCandidates)
        return invalid_argument("candidates must be at most " + std::to_string(kMaxCandidates));
    const uint32_t candidates = options.candidates ? options.candidates : kPlanDefaultCandidates;
    if (options.mode == QOHI_PLAN_AUTO && uint64_t(count) * candidates > std::numeric_limits<uint32_t>::max())
        return invalid_argument("too many images for " + std::to_string(candidates) + " candidates each");
    for (uint32_t i = 0; i < count; ++i) {
        const qohi_plan_image& im = images[i];
        const std::string which = "image " + std::to_string(i) + ": ";
        if (im.channels != 3 && im.channels != 4) return invalid_argument(which + "channels must be 3 or 4");
        if (im.width == 0 || im.height == 0) return invalid_argument(which + "zero width or height");
        if (uint64_t(im.width) * im.height > std::numeric_limits<size_t>::max() / im.channels)
            return invalid_argument(which + "too large");
    }
    return ok_status();
}

}  // namespace

Status plan_collection(const qohi_plan_image* images, uint32_t count, qohi_plan_loader load, void* user,
                       const qohi_plan_options& options, qohi_plan_entry* out, PlanStats* stats) {
    PlanStats local;
    PlanStats& st = stats ? *stats : local;
    st = PlanStats();
    if (count == 0) return ok_status();
    QOHI_RETURN_IF_ERROR(validate(images, count, load, options, out));
    Settings s;
    s.mode = options.mode;
    s.keyframe_interval = options.keyframe_interval ? options.keyframe_interval : kPlanDefaultKeyframeInterval;
    s.max_depth = options.max_depth ? options.max_depth : QOHI_DEFAULT_MAX_DEPTH;
    s.candidates = options.candidates ? options.candidates : kPlanDefaultCandidates;
    s.memory = options.memory ? options.memory : kPlanDefaultMemory;
    s.threads = options.threads > 1 ? options.threads : 1;
    Progress progress(options.progress, options.progress_user);

    const Groups groups = make_groups(images, count);
    std::vector<uint32_t> parent(count, kNone);  // input index of each image's reference
    if (s.mode != QOHI_PLAN_AUTO) {
        progress.report("planning", 0, count);
        plan_simple(images, groups, s, parent);
        emit_input_order(images, count, parent, out);
        progress.report("planning", count, count);
        return ok_status();
    }
    // The memory budget covers the planner's state per image too; pixels
    // get the rest, at least an eighth (so the planner's memory does not
    // grow with the number of images until their state alone exceeds it).
    const uint64_t state = uint64_t(count) * AutoPlanner::state_bytes_per_image(s.candidates);
    const uint64_t pixel_budget = state < s.memory - s.memory / 8 ? s.memory - state : s.memory / 8;
    PixelCache cache(images, load, user, pixel_budget, st);
    AutoPlanner planner(images, count, groups, s, cache, progress, st);
    QOHI_RETURN_IF_ERROR(planner.run(parent));
    emit_forest(images, count, parent, out);
    return ok_status();
}

}  // namespace qohi
