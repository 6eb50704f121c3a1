#include "planner.h"

#include <algorithm>
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

#include "qoi_ops.h"
#include "signature.h"

namespace qohi {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// Groups up to this size consider every other member as a candidate; larger
// ones only the neighbourhoods below, so that no pass is quadratic.
constexpr size_t kSmallGroup = 48;
// Neighbours taken on each side of an image in each sorted projection order.
constexpr size_t kWindow = 16;
// Sorted orders: mean brightness plus seven fixed pseudo-random projections
// (measured on a synthetic 20,000-image collection: 4 orders of ±8 found
// references for 78% of the images, 8 orders of ±16 for 92%).
constexpr unsigned kProjections = 8;
constexpr unsigned kSignatureBytes = Signature::kGrid * Signature::kGrid * 4;
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
    std::vector<uint32_t> of;
    std::vector<std::vector<uint32_t>> members;
};

Groups make_groups(const qohi_plan_image* images, uint32_t count) {
    Groups g;
    g.of.resize(count);
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint32_t> ids;
    for (uint32_t i = 0; i < count; ++i) {
        const auto key = std::make_tuple(images[i].width, images[i].height, images[i].channels);
        auto it = ids.find(key);
        if (it == ids.end()) {
            it = ids.emplace(key, uint32_t(g.members.size())).first;
            g.members.emplace_back();
        }
        g.of[i] = it->second;
        g.members[it->second].push_back(i);
    }
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
// memory is bounded by the budget plus the two images being compared.
class PixelCache {
public:
    using Pixels = std::shared_ptr<const std::vector<uint8_t>>;

    PixelCache(const qohi_plan_image* images, qohi_plan_loader load, void* user, uint64_t budget,
               PlanStats& stats)
        : images_(images), load_(load), user_(user), budget_(budget), stats_(stats) {}

    Status get(uint32_t image, Pixels& out) {
        const auto it = map_.find(image);
        if (it != map_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.pos);
            out = it->second.pixels;
            return ok_status();
        }
        const size_t size = image_bytes(images_[image]);
        auto buffer = std::make_shared<std::vector<uint8_t>>(size);
        ++stats_.loads;
        const qohi_status s = load_(user_, image, buffer->data(), size);
        if (s != QOHI_OK)
            return Status(s, "loading image " + std::to_string(image) + " failed: " + qohi_status_string(s));
        out = buffer;
        if (size <= budget_) {
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
    uint64_t bytes_ = 0;
    std::list<uint32_t> lru_;  // most recently used first
    std::unordered_map<uint32_t, Entry> map_;
};

// Fixed projection weights: brightness (R+G+B of every cell), then
// pseudo-random weights in [-64, 64] from a fixed splitmix64 sequence.
std::vector<std::vector<int32_t>> projection_weights() {
    std::vector<std::vector<int32_t>> w(kProjections, std::vector<int32_t>(kSignatureBytes, 0));
    for (unsigned k = 0; k < kSignatureBytes; ++k) w[0][k] = k % 4 == 3 ? 0 : 1;
    uint64_t state = 0x51A7E5EEDULL;
    for (unsigned p = 1; p < kProjections; ++p)
        for (unsigned k = 0; k < kSignatureBytes; ++k) {
            uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            z ^= z >> 31;
            w[p][k] = int32_t(z % 129) - 64;
        }
    return w;
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
        QOHI_RETURN_IF_ERROR(score_candidates());
        return build_forest(parent);
    }

private:
    struct Scored {
        uint32_t ref;
        int64_t saving;  // intra cost of the subject minus its cost against ref, in bits
    };

    // A delta is worth planning when its estimated saving is clearly
    // positive: more than 1/32 of the subject's intra cost plus 64 bits. The
    // estimate of an unrelated reference differs from the intra estimate by
    // about 1% either way (different code tables, sampled rows), and a
    // delta frame costs a longer decode; a margin keeps such images intra.
    bool worthwhile(uint32_t subject, int64_t saving) const {
        return saving > int64_t(intra_[subject] / 32) + 64;
    }

    // Step 1 and 2: one pass loading every image that could take part in a
    // reference (group of two or more with a non-baseline member): its
    // signature and, unless it is a baseline (always intra), its intra cost.
    Status analyse() {
        active_.assign(count_, 0);
        for (const std::vector<uint32_t>& members : groups_.members) {
            if (members.size() < 2) continue;
            bool any_free = false;
            for (uint32_t m : members) any_free = any_free || !is_baseline(images_[m]);
            if (!any_free) continue;
            for (uint32_t m : members) active_[m] = 1;
        }
        uint64_t total = 0, done = 0;
        for (uint32_t i = 0; i < count_; ++i) total += active_[i];
        signatures_.assign(count_, Signature());
        intra_.assign(count_, 0);
        scores_.assign(count_, {});
        progress_.report("signatures", 0, total);
        for (uint32_t i = 0; i < count_; ++i) {
            if (!active_[i]) continue;
            const qohi_plan_image& im = images_[i];
            PixelCache::Pixels px;
            QOHI_RETURN_IF_ERROR(cache_.get(i, px));
            const size_t row = size_t(im.width) * im.channels;
            signatures_[i] = compute_signature(px->data(), row, im.width, im.height, im.channels);
            if (!is_baseline(im))
                intra_[i] = estimate_band_bits(px->data(), row, nullptr, 0, im.width, im.height, im.channels);
            progress_.report("signatures", ++done, total);
        }
        return ok_status();
    }

    // Step 3: candidate references of every non-baseline image of a group,
    // without comparing all pairs. Small groups: every other member. Larger
    // ones: the previous and next member in input order, and the kWindow
    // members on each side in each of kProjections orders of the group
    // sorted by a 1-D projection of the signature. Of that pool, the
    // `candidates` with the smallest signature distance (ties: nearer in
    // input order, then lower index) are kept.
    // Step 4 follows per group: each candidate pair is scored exactly in the
    // direction subject -> candidate.
    Status score_candidates() {
        uint64_t total = 0, done = 0;
        for (uint32_t i = 0; i < count_; ++i) total += active_[i] && !is_baseline(images_[i]);
        progress_.report("scoring", 0, total);
        const std::vector<std::vector<int32_t>> weights = projection_weights();
        for (const std::vector<uint32_t>& members : groups_.members) {
            if (!active_[members.front()]) continue;
            const size_t n = members.size();
            const bool small = n <= kSmallGroup;
            // rank[p][a]: position of member a in sorted order p; order[p]: the order.
            std::vector<std::vector<uint32_t>> order, rank;
            if (!small) {
                order.assign(kProjections, std::vector<uint32_t>(n));
                rank.assign(kProjections, std::vector<uint32_t>(n));
                std::vector<int64_t> key(n);
                for (unsigned p = 0; p < kProjections; ++p) {
                    for (size_t a = 0; a < n; ++a) {
                        const Signature& s = signatures_[members[a]];
                        int64_t sum = 0;
                        for (unsigned k = 0; k < kSignatureBytes; ++k) sum += int64_t(weights[p][k]) * s.cells[k];
                        key[a] = sum;
                        order[p][a] = uint32_t(a);
                    }
                    std::sort(order[p].begin(), order[p].end(), [&](uint32_t x, uint32_t y) {
                        return key[x] != key[y] ? key[x] < key[y] : x < y;
                    });
                    for (size_t r = 0; r < n; ++r) rank[p][order[p][r]] = uint32_t(r);
                }
            }
            // Subjects in the first sorted order (similar images close
            // together, so candidates tend to be in the pixel cache).
            std::vector<uint32_t> subjects;
            for (size_t r = 0; r < n; ++r) {
                const uint32_t a = small ? uint32_t(r) : order[0][r];
                if (!is_baseline(images_[members[a]])) subjects.push_back(a);
            }
            std::vector<uint32_t> pool;
            std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> ranked;  // distance, input gap, local index
            for (uint32_t a : subjects) {
                pool.clear();
                if (small) {
                    for (size_t b = 0; b < n; ++b)
                        if (b != a) pool.push_back(uint32_t(b));
                } else {
                    if (a > 0) pool.push_back(a - 1);
                    if (a + 1 < n) pool.push_back(a + 1);
                    for (unsigned p = 0; p < kProjections; ++p) {
                        const size_t r = rank[p][a];
                        const size_t lo = r >= kWindow ? r - kWindow : 0, hi = std::min(n - 1, r + kWindow);
                        for (size_t q = lo; q <= hi; ++q)
                            if (q != r) pool.push_back(order[p][q]);
                    }
                    std::sort(pool.begin(), pool.end());
                    pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
                }
                const Signature& sa = signatures_[members[a]];
                ranked.clear();
                for (uint32_t b : pool)
                    ranked.emplace_back(signature_distance(sa, signatures_[members[b]]), a > b ? a - b : b - a, b);
                const size_t keep = std::min<size_t>(settings_.candidates, ranked.size());
                std::partial_sort(ranked.begin(), ranked.begin() + long(keep), ranked.end());
                const uint32_t subject = members[a];
                for (size_t c = 0; c < keep; ++c) {
                    int64_t saving;
                    QOHI_RETURN_IF_ERROR(score(subject, members[std::get<2>(ranked[c])], saving));
                }
                progress_.report("scoring", ++done, total);
            }
        }
        return ok_status();
    }

    const Scored* find_score(uint32_t subject, uint32_t ref) const {
        for (const Scored& s : scores_[subject])
            if (s.ref == ref) return &s;
        return nullptr;
    }

    // Saving of `subject` coded against `ref`, estimated once and cached.
    Status score(uint32_t subject, uint32_t ref, int64_t& saving) {
        if (const Scored* s = find_score(subject, ref)) {
            saving = s->saving;
            return ok_status();
        }
        PixelCache::Pixels px, rx;
        QOHI_RETURN_IF_ERROR(cache_.get(subject, px));
        QOHI_RETURN_IF_ERROR(cache_.get(ref, rx));
        const qohi_plan_image& im = images_[subject];
        const size_t row = size_t(im.width) * im.channels;
        const uint64_t bits =
            estimate_band_bits(px->data(), row, rx->data(), row, im.width, im.height, im.channels);
        ++stats_.scored_pairs;
        saving = int64_t(intra_[subject]) - int64_t(bits);
        scores_[subject].push_back({ref, saving});
        return ok_status();
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
        struct Edge {
            uint32_t a, b;
            int64_t weight;
        };
        std::vector<Edge> edges;
        for (uint32_t i = 0; i < count_; ++i)
            for (const Scored& s : scores_[i])
                if (worthwhile(i, s.saving)) edges.push_back({std::min(i, s.ref), std::max(i, s.ref), s.saving});
        std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
            return std::tie(x.a, x.b, y.weight) < std::tie(y.a, y.b, x.weight);
        });
        edges.erase(std::unique(edges.begin(), edges.end(),
                                [](const Edge& x, const Edge& y) { return x.a == y.a && x.b == y.b; }),
                    edges.end());
        std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
            return std::tie(y.weight, x.a, x.b) < std::tie(x.weight, y.a, y.b);
        });
        uf_.resize(count_);
        std::vector<char> has_baseline(count_);
        for (uint32_t i = 0; i < count_; ++i) {
            uf_[i] = i;
            has_baseline[i] = is_baseline(images_[i]);
        }
        std::vector<uint32_t> degree(count_, 0);
        std::vector<Edge> tree;
        for (const Edge& e : edges) {
            const uint32_t ra = find(e.a), rb = find(e.b);
            if (ra == rb || (has_baseline[ra] && has_baseline[rb])) continue;
            uf_[rb] = ra;
            has_baseline[ra] = char(has_baseline[ra] | has_baseline[rb]);
            tree.push_back(e);
            ++degree[e.a];
            ++degree[e.b];
        }
        // Tree adjacency (CSR), neighbours in input order.
        std::vector<uint32_t> first(size_t(count_) + 1, 0), adjacent(tree.size() * 2);
        for (uint32_t i = 0; i < count_; ++i) first[i + 1] = first[i] + degree[i];
        {
            std::vector<uint32_t> fill(first.begin(), first.end() - 1);
            for (const Edge& e : tree) {
                adjacent[fill[e.a]++] = e.b;
                adjacent[fill[e.b]++] = e.a;
            }
        }
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
        const uint64_t total = uint64_t(bfs.size()) * 2;
        uint64_t done = 0;
        progress_.report("planning", 0, total);
        // Each tree edge needs the saving of child -> parent; the candidate
        // pass may have scored only the other direction.
        for (uint32_t v : bfs) {
            if (parent0[v] != kNone) {
                int64_t saving;
                QOHI_RETURN_IF_ERROR(score(v, parent0[v], saving));
            }
            progress_.report("planning", ++done, total);
        }

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
        std::vector<uint32_t> order = bfs;
        std::stable_sort(order.begin(), order.end(),
                         [&](uint32_t x, uint32_t y) { return depth0[x] < depth0[y]; });
        std::vector<char> placed(count_, 1);
        std::vector<uint32_t> depth(count_, 0);
        for (uint32_t v : bfs)
            if (parent0[v] != kNone) placed[v] = 0;
        for (uint32_t v : order) {
            const uint32_t p = parent0[v];
            if (p != kNone) {
                const Scored* own = find_score(v, p);
                if (worthwhile(v, own->saving) && depth[p] + 1 <= settings_.max_depth) {
                    parent[v] = p;
                } else {
                    const Scored* alt = nullptr;
                    for (const Scored& s : scores_[v]) {
                        if (s.ref == p || !worthwhile(v, s.saving) || !placed[s.ref] ||
                            depth[s.ref] + 1 > settings_.max_depth)
                            continue;
                        if (!alt || s.saving > alt->saving || (s.saving == alt->saving && s.ref < alt->ref))
                            alt = &s;
                    }
                    // No scored candidate fits: try the nearest ancestors
                    // of the forest parent in the upper half of the depth
                    // range (a long chain, such as an animation, then
                    // branches instead of restarting with an intra frame).
                    int64_t chosen_saving = alt ? alt->saving : 0;
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
        return ok_status();
    }

    const qohi_plan_image* images_;
    uint32_t count_;
    const Groups& groups_;
    const Settings& settings_;
    PixelCache& cache_;
    Progress& progress_;
    PlanStats& stats_;

    std::vector<char> active_;
    std::vector<Signature> signatures_;
    std::vector<uint64_t> intra_;
    std::vector<std::vector<Scored>> scores_;  // per subject, the references it was scored against
    std::vector<uint32_t> uf_;
};

Status validate(const qohi_plan_image* images, uint32_t count, qohi_plan_loader load,
                const qohi_plan_options& options, qohi_plan_entry* out) {
    if (!images) return invalid_argument("images is NULL");
    if (!out) return invalid_argument("out is NULL");
    if (options.mode < QOHI_PLAN_AUTO || options.mode > QOHI_PLAN_NONE) return invalid_argument("unknown plan mode");
    if (options.max_depth > kMaxPlanDepth) return invalid_argument("max_depth must be at most 65535");
    if (options.mode == QOHI_PLAN_AUTO && !load) return invalid_argument("loader is NULL");
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
    PixelCache cache(images, load, user, s.memory, st);
    AutoPlanner planner(images, count, groups, s, cache, progress, st);
    QOHI_RETURN_IF_ERROR(planner.run(parent));
    emit_forest(images, count, parent, out);
    return ok_status();
}

}  // namespace qohi
