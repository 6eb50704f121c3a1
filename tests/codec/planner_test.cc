// Collection planning (qohi_plan): plan validity in every mode, reference
// choice on families of similar images, depth bound, errors, progress, and a
// large collection written with the plan and read back bit-exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <tuple>

#include "test_images.h"

namespace qohi_test {
namespace {

// Member `variant` of family `family`: a family-specific colour gradient with
// noise (costly to store on its own), and a few pixels that differ per
// variant (cheap as a delta against another member).
TestImage family_member(uint32_t family, uint32_t variant, uint32_t w, uint32_t h, uint32_t c) {
    TestImage im{"f" + std::to_string(family) + "_v" + std::to_string(variant), w, h, c,
                 std::vector<uint8_t>(size_t(w) * h * c)};
    std::mt19937 rng(1000 + family);
    const int base[3] = {int(family * 71 + 20) % 256, int(family * 151 + 90) % 256, int(family * 29 + 200) % 256};
    const int dx = int(family % 5) + 1, dy = int(family % 3) + 1;
    for (uint32_t y = 0; y < h; ++y)
        for (uint32_t x = 0; x < w; ++x)
            for (uint32_t k = 0; k < c; ++k) {
                const int v = k == 3 ? 255 - int((x + y) % 4) : base[k] + int(x) * dx + int(y) * dy + int(rng() % 16);
                im.pixels[(size_t(y) * w + x) * c + k] = uint8_t(v);
            }
    std::mt19937 vr(7919 * family + variant + 1);
    for (int n = 0; n < 4; ++n) {
        const size_t p = vr() % (size_t(w) * h);
        for (uint32_t k = 0; k < c; ++k) im.pixels[p * c + k] = uint8_t(vr());
    }
    return im;
}

TestImage noise_image(uint32_t seed, uint32_t w, uint32_t h, uint32_t c) {
    return make_image("noise" + std::to_string(seed), w, h, c,
                      [](uint32_t, uint32_t, uint32_t, std::mt19937& r) { return uint8_t(r()); }, seed + 1);
}

struct Collection {
    std::vector<TestImage> images;
    std::vector<int> family;  // -1: none
    std::vector<int> baseline;

    void add(TestImage im, int fam = -1, bool base = false) {
        images.push_back(std::move(im));
        family.push_back(fam);
        baseline.push_back(base);
    }
    std::vector<qohi_plan_image> plan_images() const {
        std::vector<qohi_plan_image> v;
        for (size_t i = 0; i < images.size(); ++i)
            v.push_back({images[i].width, images[i].height, images[i].channels, baseline[i]});
        return v;
    }
};

// Loader over a Collection that counts loads and can fail on demand; safe
// to call from several threads.
struct Loader {
    const Collection* c = nullptr;
    std::mutex mutex;  // guards `loads` and `size_ok`
    std::vector<uint32_t> loads;
    uint32_t fail_image = UINT32_MAX;
    uint32_t fail_on_load = 1;  // fail at this load of fail_image
    qohi_status fail_status = QOHI_ERROR_IO;
    bool size_ok = true;

    explicit Loader(const Collection& col) : c(&col), loads(col.images.size(), 0) {}

    static qohi_status load(void* user, uint32_t image, void* pixels, size_t size) {
        Loader& l = *static_cast<Loader*>(user);
        {
            std::lock_guard<std::mutex> lock(l.mutex);
            if (image >= l.loads.size() || size != l.c->images[image].pixels.size()) {
                l.size_ok = false;
                return QOHI_ERROR_INVALID_ARGUMENT;
            }
            ++l.loads[image];
            if (image == l.fail_image && l.loads[image] >= l.fail_on_load) return l.fail_status;
        }
        const std::vector<uint8_t>& px = l.c->images[image].pixels;
        std::memcpy(pixels, px.data(), size);
        return QOHI_OK;
    }
    uint64_t total() const {
        uint64_t t = 0;
        for (uint32_t n : loads) t += n;
        return t;
    }
};

qohi_plan_options options_for(int mode, uint32_t max_depth = 0) {
    qohi_plan_options o;
    qohi_plan_options_init(&o);
    o.mode = mode;
    if (max_depth) o.max_depth = max_depth;
    return o;
}

std::vector<qohi_plan_entry> plan(const Collection& c, const qohi_plan_options& o, Loader* loader = nullptr) {
    Loader local(c);
    Loader& l = loader ? *loader : local;
    const std::vector<qohi_plan_image> meta = c.plan_images();
    std::vector<qohi_plan_entry> out(meta.size());
    qohi_error err;
    const qohi_status s = qohi_plan(meta.data(), uint32_t(meta.size()), &Loader::load, &l, &o, out.data(), &err);
    EXPECT_EQ(s, QOHI_OK) << err.message;
    EXPECT_TRUE(l.size_ok);
    return out;
}

// Input image index -> its reference's input image index (-1 intra).
std::vector<int64_t> ref_images(const std::vector<qohi_plan_entry>& e) {
    std::vector<int64_t> r(e.size(), -1);
    for (const qohi_plan_entry& x : e)
        if (x.reference >= 0) r[x.image] = e[size_t(x.reference)].image;
    return r;
}

// Input image index -> its depth in the plan.
std::vector<uint32_t> depths(const std::vector<qohi_plan_entry>& e) {
    std::vector<uint32_t> pos_depth(e.size(), 0), d(e.size(), 0);
    for (size_t k = 0; k < e.size(); ++k) {
        if (e[k].reference >= 0 && e[k].reference < int64_t(k)) pos_depth[k] = pos_depth[size_t(e[k].reference)] + 1;
        if (e[k].image < e.size()) d[e[k].image] = pos_depth[k];
    }
    return d;
}

// The contract of every mode.
::testing::AssertionResult valid_plan(const Collection& c, const std::vector<qohi_plan_entry>& e, uint32_t max_depth) {
    const size_t n = c.images.size();
    if (e.size() != n) return ::testing::AssertionFailure() << "wrong entry count";
    std::vector<int> seen(n, 0);
    std::vector<uint32_t> depth(n, 0);
    std::vector<uint32_t> baselines_in_order;
    for (size_t i = 0; i < n; ++i)
        if (c.baseline[i]) baselines_in_order.push_back(uint32_t(i));
    for (size_t k = 0; k < n; ++k) {
        const qohi_plan_entry& x = e[k];
        if (x.image >= n || seen[x.image]++) return ::testing::AssertionFailure() << "not a permutation at " << k;
        if (k < baselines_in_order.size()) {
            if (x.image != baselines_in_order[k]) return ::testing::AssertionFailure() << "baselines must come first";
            if (x.reference != -1) return ::testing::AssertionFailure() << "baseline with a reference at " << k;
        } else if (c.baseline[x.image]) {
            return ::testing::AssertionFailure() << "baseline after a non-baseline at " << k;
        }
        if (x.reference == -1) continue;
        if (x.reference < 0 || x.reference >= int64_t(k))
            return ::testing::AssertionFailure() << "reference not backwards at " << k << ": " << x.reference;
        const TestImage& a = c.images[x.image];
        const TestImage& b = c.images[e[size_t(x.reference)].image];
        if (a.width != b.width || a.height != b.height || a.channels != b.channels)
            return ::testing::AssertionFailure() << "reference of another size at " << k;
        depth[k] = depth[size_t(x.reference)] + 1;
        if (depth[k] > max_depth) return ::testing::AssertionFailure() << "depth " << depth[k] << " at " << k;
    }
    return ::testing::AssertionSuccess();
}

// Three groups (two share width and height but not channels), families in
// each, two baselines; images interleaved.
Collection mixed_collection() {
    Collection c;
    for (uint32_t v = 0; v < 12; ++v) {
        c.add(family_member(0, v, 24, 16, 4), 0, v == 5);
        c.add(family_member(1, v, 24, 16, 3), 1);
        if (v % 2 == 0) c.add(family_member(2, v, 10, 10, 4), 2, v == 8);
        c.add(family_member(3, v, 24, 16, 4), 3);
    }
    return c;
}

TEST(Planner, EveryModeGivesAValidPlan) {
    const Collection c = mixed_collection();
    for (int mode : {QOHI_PLAN_AUTO, QOHI_PLAN_PRIOR, QOHI_PLAN_FIRST, QOHI_PLAN_KEYFRAME, QOHI_PLAN_NONE}) {
        for (uint32_t max_depth : {1u, 3u, 16u}) {
            qohi_plan_options o = options_for(mode, max_depth);
            o.keyframe_interval = 4;
            const std::vector<qohi_plan_entry> e = plan(c, o);
            EXPECT_TRUE(valid_plan(c, e, max_depth)) << "mode " << mode << " max_depth " << max_depth;
            size_t deltas = 0;
            for (const qohi_plan_entry& x : e) deltas += x.reference >= 0;
            if (mode == QOHI_PLAN_NONE) EXPECT_EQ(deltas, 0u);
            else EXPECT_GE(deltas, c.images.size() / 2) << "mode " << mode << " max_depth " << max_depth;
        }
    }
}

// Image index of the previous member of the same group, per image (-1 none).
std::vector<int64_t> previous_in_group(const Collection& c) {
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, int64_t> last;
    std::vector<int64_t> prev(c.images.size());
    for (size_t i = 0; i < c.images.size(); ++i) {
        const auto key = std::make_tuple(c.images[i].width, c.images[i].height, c.images[i].channels);
        const auto it = last.find(key);
        prev[i] = it == last.end() ? -1 : it->second;
        last[key] = int64_t(i);
    }
    return prev;
}

TEST(Planner, PriorKeyframeFirstAndNoneFollowInputOrder) {
    const Collection c = mixed_collection();
    const std::vector<int64_t> prev = previous_in_group(c);
    const size_t n = c.images.size();
    // NONE: baselines, then input order, all intra.
    {
        const std::vector<qohi_plan_entry> e = plan(c, options_for(QOHI_PLAN_NONE));
        std::vector<uint32_t> expected;
        for (uint32_t i = 0; i < n; ++i)
            if (c.baseline[i]) expected.push_back(i);
        for (uint32_t i = 0; i < n; ++i)
            if (!c.baseline[i]) expected.push_back(i);
        for (size_t k = 0; k < n; ++k) {
            EXPECT_EQ(e[k].image, expected[k]);
            EXPECT_EQ(e[k].reference, -1);
        }
    }
    // PRIOR and KEYFRAME: the previous image of the group, intra at the
    // group's start, at baselines, every interval images and at the depth limit.
    for (uint32_t interval : {0u, 3u}) {
        const uint32_t max_depth = 4;
        qohi_plan_options o = options_for(interval ? QOHI_PLAN_KEYFRAME : QOHI_PLAN_PRIOR, max_depth);
        o.keyframe_interval = interval;
        const std::vector<qohi_plan_entry> e = plan(c, o);
        ASSERT_TRUE(valid_plan(c, e, max_depth));
        const std::vector<int64_t> ref = ref_images(e);
        const std::vector<uint32_t> d = depths(e);
        std::vector<uint32_t> run(n, 0);  // position since the last intra image of the group
        for (size_t i = 0; i < n; ++i) {
            const bool expect_intra = c.baseline[i] || prev[i] < 0 || d[size_t(prev[i])] == max_depth ||
                                      (interval && run[size_t(prev[i])] + 1 >= interval);
            EXPECT_EQ(ref[i], expect_intra ? -1 : prev[i]) << "image " << i << " interval " << interval;
            run[i] = ref[i] < 0 ? 0 : run[size_t(prev[i])] + 1;
        }
    }
    // FIRST: the group's first baseline, else its first image.
    {
        const std::vector<qohi_plan_entry> e = plan(c, options_for(QOHI_PLAN_FIRST));
        ASSERT_TRUE(valid_plan(c, e, 1));
        const std::vector<int64_t> ref = ref_images(e);
        std::map<std::tuple<uint32_t, uint32_t, uint32_t>, int64_t> anchor;
        for (size_t i = 0; i < n; ++i) {
            const auto key = std::make_tuple(c.images[i].width, c.images[i].height, c.images[i].channels);
            if (!anchor.count(key) || (c.baseline[i] && !c.baseline[size_t(anchor[key])])) anchor[key] = int64_t(i);
        }
        for (size_t i = 0; i < n; ++i) {
            const auto key = std::make_tuple(c.images[i].width, c.images[i].height, c.images[i].channels);
            EXPECT_EQ(ref[i], c.baseline[i] || anchor[key] == int64_t(i) ? -1 : anchor[key]) << "image " << i;
        }
    }
}

TEST(Planner, AutoKeepsInterleavedFamiliesApart) {
    // 10 per family: a small group (every member a candidate); 40 per
    // family: a large group (neighbourhoods in sorted projections).
    for (uint32_t per_family : {10u, 40u}) {
        Collection c;
        for (uint32_t v = 0; v < per_family; ++v) {
            c.add(family_member(3, v, 32, 24, 3), 0);
            c.add(family_member(8, v, 32, 24, 3), 1);
        }
        const std::vector<qohi_plan_entry> e = plan(c, options_for(QOHI_PLAN_AUTO));
        ASSERT_TRUE(valid_plan(c, e, QOHI_DEFAULT_MAX_DEPTH));
        const std::vector<int64_t> ref = ref_images(e);
        size_t deltas = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
            if (ref[i] < 0) continue;
            ++deltas;
            EXPECT_EQ(c.family[size_t(ref[i])], c.family[i]) << "image " << i << " refers to " << ref[i];
        }
        EXPECT_EQ(deltas, c.images.size() - 2) << "one intra root per family";
    }
}

TEST(Planner, AutoKeepsUnrelatedNoiseIntra) {
    for (uint32_t n : {12u, 60u}) {
        Collection c;
        for (uint32_t i = 0; i < n; ++i) c.add(noise_image(i, 20, 20, i % 2 ? 3 : 4));
        const std::vector<qohi_plan_entry> e = plan(c, options_for(QOHI_PLAN_AUTO));
        ASSERT_TRUE(valid_plan(c, e, QOHI_DEFAULT_MAX_DEPTH));
        for (const qohi_plan_entry& x : e) EXPECT_EQ(x.reference, -1) << "image " << x.image;
    }
}

TEST(Planner, AutoRespectsSizesChannelsAndBaselines) {
    // The same family content at two sizes and in RGB and RGBA: four groups.
    Collection c;
    for (uint32_t v = 0; v < 8; ++v) {
        c.add(family_member(5, v, 16, 16, 3), 0, v == 6);
        c.add(family_member(5, v, 16, 16, 4), 1);
        c.add(family_member(5, v, 16, 8, 3), 2, v == 3 || v == 4);
        c.add(family_member(5, v, 8, 16, 3), 3);
    }
    const std::vector<qohi_plan_entry> e = plan(c, options_for(QOHI_PLAN_AUTO, 2));
    ASSERT_TRUE(valid_plan(c, e, 2));
    const std::vector<int64_t> ref = ref_images(e);
    size_t deltas = 0, to_baseline = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (ref[i] < 0) continue;
        ++deltas;
        to_baseline += c.baseline[size_t(ref[i])];
        EXPECT_EQ(c.family[size_t(ref[i])], c.family[i]);
    }
    // Baselines are roots, so group 0 has no other intra image; group 2 has
    // two baselines and no other intra image either; groups 1 and 3 one each.
    EXPECT_EQ(deltas, c.images.size() - 3 - 2);
    EXPECT_GE(to_baseline, 3u);
}

TEST(Planner, AutoBoundsChainDepth) {
    // A drifting sequence: each image is the previous one with a few more
    // pixels changed, so the best forest is a long path.
    Collection c;
    TestImage im = family_member(2, 0, 32, 32, 3);
    std::mt19937 rng(5);
    for (uint32_t i = 0; i < 40; ++i) {
        for (int k = 0; k < 6; ++k) im.pixels[rng() % im.pixels.size()] = uint8_t(rng());
        im.name = "drift" + std::to_string(i);
        c.add(im, 0);
    }
    for (uint32_t max_depth : {1u, 2u, 5u}) {
        const std::vector<qohi_plan_entry> e = plan(c, options_for(QOHI_PLAN_AUTO, max_depth));
        ASSERT_TRUE(valid_plan(c, e, max_depth)) << max_depth;
        size_t deltas = 0, deepest = 0;
        const std::vector<uint32_t> d = depths(e);
        for (size_t i = 0; i < e.size(); ++i) {
            deltas += e[i].reference >= 0;
            deepest = std::max<size_t>(deepest, d[i]);
        }
        EXPECT_EQ(deepest, max_depth) << "the bound is used";
        EXPECT_GE(deltas * 4, e.size() * 3) << "max_depth " << max_depth << ": re-attached rather than intra";
    }
}

TEST(Planner, LoaderErrorsArePropagated) {
    const Collection c = mixed_collection();
    const std::vector<qohi_plan_image> meta = c.plan_images();
    for (uint32_t fail_on_load : {1u, 2u}) {
        Loader l(c);
        l.fail_image = 7;
        l.fail_on_load = fail_on_load;
        l.fail_status = fail_on_load == 1 ? QOHI_ERROR_IO : QOHI_ERROR_OUT_OF_MEMORY;
        qohi_plan_options o = options_for(QOHI_PLAN_AUTO);
        o.memory = 1;  // nothing cached: images are loaded again for scoring
        std::vector<qohi_plan_entry> out(meta.size(), qohi_plan_entry{12345, 12345});
        qohi_error err;
        const qohi_status s = qohi_plan(meta.data(), uint32_t(meta.size()), &Loader::load, &l, &o, out.data(), &err);
        EXPECT_EQ(s, l.fail_status);
        EXPECT_EQ(err.status, l.fail_status);
        EXPECT_NE(std::string(err.message).find("image 7"), std::string::npos) << err.message;
        EXPECT_EQ(l.loads[7], fail_on_load) << "stops at the failure";
        for (const qohi_plan_entry& x : out) EXPECT_EQ(x.image, 12345u) << "out untouched on failure";
    }
}

TEST(Planner, InvalidArgumentsAreRefused) {
    const Collection c = mixed_collection();
    Loader l(c);
    std::vector<qohi_plan_image> meta = c.plan_images();
    std::vector<qohi_plan_entry> out(meta.size());
    const qohi_plan_options def = options_for(QOHI_PLAN_AUTO);
    const auto run = [&](const std::vector<qohi_plan_image>& m, const qohi_plan_options* o, qohi_plan_loader load) {
        qohi_error err;
        return qohi_plan(m.data(), uint32_t(m.size()), load, &l, o, out.data(), &err);
    };
    EXPECT_EQ(qohi_plan(nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr), QOHI_OK) << "nothing to do";
    EXPECT_EQ(run(meta, nullptr, &Loader::load), QOHI_OK) << "NULL options mean defaults";
    EXPECT_EQ(qohi_plan(nullptr, 3, &Loader::load, &l, &def, out.data(), nullptr), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_plan(meta.data(), 3, &Loader::load, &l, &def, nullptr, nullptr), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(run(meta, &def, nullptr), QOHI_ERROR_INVALID_ARGUMENT) << "AUTO needs a loader";
    const qohi_plan_options prior = options_for(QOHI_PLAN_PRIOR);
    EXPECT_EQ(run(meta, &prior, nullptr), QOHI_OK) << "other modes load nothing";
    qohi_plan_options bad = def;
    bad.mode = 9;
    EXPECT_EQ(run(meta, &bad, &Loader::load), QOHI_ERROR_INVALID_ARGUMENT);
    bad = def;
    bad.max_depth = 70000;
    EXPECT_EQ(run(meta, &bad, &Loader::load), QOHI_ERROR_INVALID_ARGUMENT);
    bad = def;
    bad.candidates = 65;  // kept for every image at once: bounded
    EXPECT_EQ(run(meta, &bad, &Loader::load), QOHI_ERROR_INVALID_ARGUMENT);
    bad.candidates = 64;
    EXPECT_EQ(run(meta, &bad, &Loader::load), QOHI_OK);
    for (int field = 0; field < 4; ++field) {
        std::vector<qohi_plan_image> m = meta;
        if (field == 0) m[4].channels = 2;
        if (field == 1) m[4].channels = 5;
        if (field == 2) m[4].width = 0;
        if (field == 3) m[4].height = 0;
        qohi_error err;
        EXPECT_EQ(qohi_plan(m.data(), uint32_t(m.size()), &Loader::load, &l, &prior, out.data(), &err),
                  QOHI_ERROR_INVALID_ARGUMENT)
            << field;
        EXPECT_NE(std::string(err.message).find("image 4"), std::string::npos) << err.message;
    }
    qohi_plan_options init;
    std::memset(&init, 0xFF, sizeof init);
    qohi_plan_options_init(&init);
    EXPECT_EQ(init.mode, QOHI_PLAN_AUTO);
    EXPECT_EQ(init.keyframe_interval, 16u);
    EXPECT_EQ(init.max_depth, uint32_t(QOHI_DEFAULT_MAX_DEPTH));
    EXPECT_EQ(init.candidates, 6u);
    EXPECT_EQ(init.memory, uint64_t(64) << 20);
    EXPECT_EQ(init.progress, nullptr);
}

struct ProgressLog {
    std::vector<std::tuple<std::string, uint64_t, uint64_t>> calls;
    static void record(void* user, const char* stage, uint64_t done, uint64_t total) {
        static_cast<ProgressLog*>(user)->calls.emplace_back(stage, done, total);
    }
};

// 3000 tiny images in 30 families of 100, shuffled.
Collection large_collection() {
    Collection c;
    std::vector<std::pair<uint32_t, uint32_t>> ids;
    for (uint32_t f = 0; f < 30; ++f)
        for (uint32_t v = 0; v < 100; ++v) ids.emplace_back(f, v);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(99));
    for (const auto& id : ids) c.add(family_member(id.first, id.second, 16, 16, 4), int(id.first));
    c.baseline[17] = 1;
    return c;
}

std::vector<uint8_t> write_plan(const Collection& c, const std::vector<qohi_plan_entry>& e, uint32_t max_depth) {
    qohi_write_options wo;
    qohi_write_options_init(&wo);
    wo.max_depth = max_depth;
    qohi_writer* w = nullptr;
    EXPECT_EQ(qohi_writer_open_memory(&wo, &w, nullptr), QOHI_OK);
    if (!w) return {};
    for (const qohi_plan_entry& x : e) {
        const TestImage& im = c.images[x.image];
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = im.name.c_str();
        fo.baseline = c.baseline[x.image];
        fo.reference = x.reference;
        if (x.reference >= 0) fo.reference_pixels = c.images[e[size_t(x.reference)].image].pixels.data();
        EXPECT_EQ(qohi_writer_add_frame_with(w, im.pixels.data(), im.width, im.height, im.channels, 0, &fo), QOHI_OK)
            << qohi_writer_message(w);
    }
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return file;
}

// Reads every frame back (last to first: long reference chains) and compares.
void check_file(const std::vector<uint8_t>& file, const Collection& c, const std::vector<qohi_plan_entry>& e) {
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    ASSERT_EQ(qohi_reader_frame_count(r), e.size());
    for (size_t k = e.size(); k-- > 0;) {
        const TestImage& im = c.images[e[k].image];
        qohi_frame_info info;
        ASSERT_EQ(qohi_reader_frame_info(r, uint32_t(k), &info), QOHI_OK);
        EXPECT_EQ(std::string(info.name), im.name);
        EXPECT_TRUE(info.reference == e[k].reference || info.reference == -1) << k;
        std::vector<uint8_t> out(im.pixels.size());
        ASSERT_EQ(qohi_reader_decode_frame(r, uint32_t(k), out.data(), out.size(), 0, 0), QOHI_OK)
            << qohi_reader_message(r);
        ASSERT_EQ(out, im.pixels) << "frame " << k;
    }
    qohi_reader_close(r);
}

TEST(Planner, ProgressIsReportedInStages) {
    const Collection c = large_collection();
    ProgressLog log;
    qohi_plan_options o = options_for(QOHI_PLAN_AUTO);
    o.progress = &ProgressLog::record;
    o.progress_user = &log;
    plan(c, o);
    ASSERT_FALSE(log.calls.empty());
    EXPECT_LE(log.calls.size(), 300u) << "now and then, not per image";
    std::vector<std::string> stages;
    for (const auto& call : log.calls) {
        if (stages.empty() || stages.back() != std::get<0>(call)) stages.push_back(std::get<0>(call));
        EXPECT_LE(std::get<1>(call), std::get<2>(call));
    }
    EXPECT_EQ(stages, (std::vector<std::string>{"signatures", "scoring", "planning"}));
    for (size_t i = 0; i < log.calls.size(); ++i)
        if (i + 1 == log.calls.size() || std::get<0>(log.calls[i + 1]) != std::get<0>(log.calls[i]))
            EXPECT_EQ(std::get<1>(log.calls[i]), std::get<2>(log.calls[i])) << "each stage ends complete";
}

TEST(Planner, LargeCollectionScalesAndRoundTrips) {
    const Collection c = large_collection();
    const size_t n = c.images.size();
    Loader loader(c);
    qohi_plan_options o = options_for(QOHI_PLAN_AUTO);
    o.memory = 64 * 16 * 16 * 4 + 3000 * 160;  // the state of 3000 images, pixels of 64
    const std::vector<qohi_plan_entry> e = plan(c, o, &loader);
    ASSERT_TRUE(valid_plan(c, e, QOHI_DEFAULT_MAX_DEPTH));

    // Loads are O(candidates) per image, not O(images).
    const uint32_t max_loads = *std::max_element(loader.loads.begin(), loader.loads.end());
    EXPECT_GE(*std::min_element(loader.loads.begin(), loader.loads.end()), 1u);
    EXPECT_LE(loader.total(), uint64_t(n) * (3 + o.candidates)) << "total loads";
    EXPECT_LE(max_loads, 80u) << "loads of one image";

    // References stay within families, and nearly every image is a delta.
    const std::vector<int64_t> ref = ref_images(e);
    size_t deltas = 0;
    for (size_t i = 0; i < n; ++i) {
        if (ref[i] < 0) continue;
        ++deltas;
        EXPECT_EQ(c.family[size_t(ref[i])], c.family[i]) << "image " << i;
    }
    EXPECT_GE(deltas, n - 100);

    // Deterministic.
    EXPECT_EQ(ref_images(plan(c, o)), ref);

    const std::vector<uint8_t> planned = write_plan(c, e, QOHI_DEFAULT_MAX_DEPTH);
    check_file(planned, c, e);
    const std::vector<uint8_t> intra = write_plan(c, plan(c, options_for(QOHI_PLAN_NONE)), QOHI_DEFAULT_MAX_DEPTH);
    EXPECT_LT(planned.size() * 3, intra.size()) << planned.size() << " vs " << intra.size();
    std::printf("[ planner  ] %zu images: planned %zu bytes, intra %zu bytes; loads %llu (max %u per image)\n", n,
                planned.size(), intra.size(), static_cast<unsigned long long>(loader.total()), max_loads);
}

// Many small families (4 members differing in a few pixels) whose members
// are scattered: the candidate search must find a member's relatives
// however many images there are. One sorted projection per direction could
// not: at 8,000 images its neighbours were mostly strangers.
Collection small_families(uint32_t families) {
    Collection c;
    std::vector<std::pair<uint32_t, uint32_t>> ids;
    for (uint32_t f = 0; f < families; ++f)
        for (uint32_t v = 0; v < 4; ++v) ids.emplace_back(f, v);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(5));
    for (const auto& id : ids) c.add(family_member(id.first, id.second, 12, 12, 3), int(id.first));
    return c;
}

// Share of images planned as a delta of a relative.
double related_share(const Collection& c, const qohi_plan_options& o) {
    const std::vector<int64_t> ref = ref_images(plan(c, o));
    size_t related = 0;
    for (size_t i = 0; i < ref.size(); ++i) related += ref[i] >= 0 && c.family[size_t(ref[i])] == c.family[i];
    return double(related) / double(ref.size());
}

TEST(Planner, RelativesAreFoundAtAnyCollectionSize) {
    const qohi_plan_options o = options_for(QOHI_PLAN_AUTO);
    const double small = related_share(small_families(100), o);   // 400 images
    const double large = related_share(small_families(2000), o);  // 8,000 images
    std::printf("[ planner  ] delta of a relative: %.3f of 400 images, %.3f of 8000\n", small, large);
    EXPECT_GE(small, 0.70);  // one intra root per family of 4: at most 0.75
    EXPECT_GE(large, small - 0.02);
}

TEST(Planner, ThePlanIsTheSameForAnyThreadCount) {
    const Collection c = large_collection();
    qohi_plan_options o = options_for(QOHI_PLAN_AUTO);
    o.memory = 256 * 16 * 16 * 4;
    o.threads = 1;
    const std::vector<qohi_plan_entry> one = plan(c, o);
    ASSERT_TRUE(valid_plan(c, one, QOHI_DEFAULT_MAX_DEPTH));
    for (uint32_t threads : {2u, 3u, 8u}) {
        o.threads = threads;
        const std::vector<qohi_plan_entry> e = plan(c, o);
        ASSERT_EQ(e.size(), one.size());
        for (size_t k = 0; k < e.size(); ++k) {
            EXPECT_EQ(e[k].image, one[k].image) << threads << " threads, position " << k;
            EXPECT_EQ(e[k].reference, one[k].reference) << threads << " threads, position " << k;
        }
    }
}

TEST(Planner, LoaderErrorsArePropagatedFromEveryThread) {
    const Collection c = large_collection();
    for (uint32_t fail_image : {0u, 1234u, 2999u}) {
        Loader l(c);
        l.fail_image = fail_image;
        qohi_plan_options o = options_for(QOHI_PLAN_AUTO);
        o.threads = 4;
        const std::vector<qohi_plan_image> meta = c.plan_images();
        std::vector<qohi_plan_entry> out(meta.size(), qohi_plan_entry{12345u, 0});
        qohi_error err;
        const qohi_status s = qohi_plan(meta.data(), uint32_t(meta.size()), &Loader::load, &l, &o, out.data(), &err);
        ASSERT_EQ(s, l.fail_status) << "image " << fail_image;
        EXPECT_NE(std::string(err.message).find("image " + std::to_string(fail_image)), std::string::npos)
            << err.message;
        EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](const qohi_plan_entry& x) { return x.image == 12345u; }))
            << "out untouched on failure";
    }
}

TEST(Planner, PlansOfEveryModeRoundTripThroughTheWriter) {
    const Collection c = mixed_collection();
    for (int mode : {QOHI_PLAN_AUTO, QOHI_PLAN_PRIOR, QOHI_PLAN_FIRST, QOHI_PLAN_KEYFRAME, QOHI_PLAN_NONE}) {
        const std::vector<qohi_plan_entry> e = plan(c, options_for(mode, 3));
        check_file(write_plan(c, e, 3), c, e);
    }
}

}  // namespace
}  // namespace qohi_test
