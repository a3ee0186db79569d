#include "stbt_native.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A reference's rows are summed in int32: 3 * MAX_TW * 255^2 must stay below 2^31. */
enum { MAX_TW = 8192, GROUP_CHECK = 16 };

/* The hot loops, compiled for AVX2 too and chosen when the CPU has it (GCC's function
 * multi-versioning); the same results either way. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VECTORISE __attribute__((target_clones("avx2", "default")))
#else
#define VECTORISE
#endif

typedef struct problem {
    const uint8_t *frame;
    ptrdiff_t stride;
    const uint8_t *tmpl;
    const uint8_t *mask3; /* th * tw * 3 weights of 0 or 1, or NULL */
    int tw, th;
    const int32_t *excl;
    int n_excl;
} problem;

/* A k x k block of the reference that is opaque throughout: its offset and per-channel sums. */
typedef struct block {
    int ox, oy;
    int32_t sum[3];
} block;

typedef struct cand {
    int64_t lb; /* lower bound of the sum, times k^2 */
    int32_t x, y;
} cand;

/* Per-thread buffers, grown as needed and kept: a match a frame must not fault in megabytes. */
enum { WS_MASK, WS_BLOCKS, WS_V, WS_S, WS_TMIN, WS_TMAX, WS_ACC, WS_CANDS, WS_ROWMIN, WS_N };
static _Thread_local struct {
    void *p;
    size_t n;
} ws[WS_N];

static void *ws_get(int i, size_t n)
{
    if (ws[i].n < n) {
        void *p = realloc(ws[i].p, n);
        if (!p)
            return NULL;
        ws[i].p = p;
        ws[i].n = n;
    }
    return ws[i].p;
}

static int excluded(const problem *p, int x, int y)
{
    for (int i = 0; i < p->n_excl; i++) {
        const int32_t *e = p->excl + 4 * i;
        if (x >= e[0] && x < e[2] && y >= e[1] && y < e[3])
            return 1;
    }
    return 0;
}

/* The sum at (x, y), or some partial sum above `bound` as soon as it exceeds it. */
VECTORISE static int64_t ssd_at(const problem *p, int x, int y, int64_t bound)
{
    int n = p->tw * 3;
    int64_t s = 0;
    for (int i = 0; i < p->th; i++) {
        const uint8_t *f = p->frame + (ptrdiff_t)(y + i) * p->stride + (ptrdiff_t)x * 3;
        const uint8_t *t = p->tmpl + (size_t)i * (size_t)n;
        int32_t row = 0;
        if (p->mask3) {
            const uint8_t *m = p->mask3 + (size_t)i * (size_t)n;
            for (int j = 0; j < n; j++) {
                int d = (int)t[j] - (int)f[j];
                row += d * d * (int)m[j];
            }
        } else {
            for (int j = 0; j < n; j++) {
                int d = (int)t[j] - (int)f[j];
                row += d * d;
            }
        }
        s += row;
        if (s > bound)
            return s;
    }
    return s;
}

int64_t stbt_sqdiff_at(const uint8_t *frame, ptrdiff_t stride, const uint8_t *tmpl,
                       const uint8_t *mask, int tw, int th, int x, int y)
{
    int64_t s = 0;
    for (int i = 0; i < th; i++) {
        for (int j = 0; j < tw; j++) {
            if (mask && !mask[i * tw + j])
                continue;
            for (int c = 0; c < 3; c++) {
                int d = (int)tmpl[(i * tw + j) * 3 + c] -
                        (int)frame[(ptrdiff_t)(y + i) * stride + (x + j) * 3 + c];
                s += d * d;
            }
        }
    }
    return s;
}

/* The opaque k x k blocks of the reference; returns how many. */
static int make_blocks(const problem *p, const uint8_t *mask, int k, block *out)
{
    int n = 0;
    for (int by = 0; by + k <= p->th; by += k) {
        for (int bx = 0; bx + k <= p->tw; bx += k) {
            block b = {bx, by, {0, 0, 0}};
            int opaque = 1;
            for (int i = 0; i < k && opaque; i++) {
                for (int j = 0; j < k; j++) {
                    size_t at = (size_t)(by + i) * (size_t)p->tw + (size_t)(bx + j);
                    if (mask && !mask[at]) {
                        opaque = 0;
                        break;
                    }
                    for (int c = 0; c < 3; c++)
                        b.sum[c] += p->tmpl[at * 3 + (size_t)c];
                }
            }
            if (opaque)
                out[n++] = b;
        }
    }
    return n;
}

/* No useful blocks: every position, pruned only by its own running sum. First the best within
 * `limit`; failing that, the best of all. */
static int brute_force(const problem *p, int npx, int npy, int64_t limit, int32_t *bx, int32_t *by,
                       int64_t *bs)
{
    for (int pass = 0; pass < 2; pass++) {
        int64_t bound = pass ? INT64_MAX : limit;
        int found = 0;
        for (int y = 0; y < npy; y++) {
            for (int x = 0; x < npx; x++) {
                if (excluded(p, x, y))
                    continue;
                int64_t s = ssd_at(p, x, y, bound);
                if (s <= bound && (!found || s < *bs)) {
                    found = 1;
                    *bx = x;
                    *by = y;
                    *bs = s;
                    bound = s;
                }
            }
        }
        if (found)
            return pass == 0;
    }
    *bx = *by = -1;
    *bs = 0;
    return 0;
}

static int64_t mul_clamp(int64_t a, int64_t b)
{
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->lb != y->lb)
        return x->lb < y->lb ? -1 : 1;
    if (x->y != y->y)
        return x->y < y->y ? -1 : 1;
    return (x->x > y->x) - (x->x < y->x);
}

/* k x k window sums S[q] (per channel) at every window start of the frame: columns summed over
 * k rows, then k neighbouring column sums added; both passes run along whole rows. */
VECTORISE static int window_sums(const problem *p, int width, int height, int k, uint16_t **out)
{
    int qw = width - k + 1, qh = height - k + 1, rw = width * 3, sw = qw * 3;
    uint16_t *v = ws_get(WS_V, (size_t)rw * sizeof(uint16_t));
    uint16_t *s = ws_get(WS_S, (size_t)qh * (size_t)sw * sizeof(uint16_t));
    if (!v || !s)
        return -1;
    memset(v, 0, (size_t)rw * sizeof(uint16_t));
    for (int i = 0; i < k; i++) {
        const uint8_t *f = p->frame + (ptrdiff_t)i * p->stride;
        for (int j = 0; j < rw; j++)
            v[j] = (uint16_t)(v[j] + f[j]);
    }
    for (int y = 0;; y++) {
        uint16_t *row = s + (size_t)y * (size_t)sw;
        memcpy(row, v, (size_t)sw * sizeof(uint16_t));
        for (int j = 1; j < k; j++) {
            const uint16_t *sh = v + j * 3;
            for (int i = 0; i < sw; i++)
                row[i] = (uint16_t)(row[i] + sh[i]);
        }
        if (y + 1 == qh)
            break;
        const uint8_t *add = p->frame + (ptrdiff_t)(y + k) * p->stride;
        const uint8_t *sub = p->frame + (ptrdiff_t)y * p->stride;
        for (int j = 0; j < rw; j++)
            v[j] = (uint16_t)(v[j] + add[j] - sub[j]);
    }
    *out = s;
    return 0;
}

/* Per-channel minimum and maximum of S over k x k tiles of window starts, planar [c][ty][tx]. */
VECTORISE static int tile_ranges(const uint16_t *s, int qw, int qh, int k, int tcols, int trows,
                                 float **tmin_out, float **tmax_out)
{
    int sw = qw * 3;
    size_t plane = (size_t)tcols * (size_t)trows;
    float *tmin = ws_get(WS_TMIN, 3 * plane * sizeof(float));
    float *tmax = ws_get(WS_TMAX, 3 * plane * sizeof(float));
    uint16_t *rmin = ws_get(WS_ROWMIN, 2 * (size_t)sw * sizeof(uint16_t));
    if (!tmin || !tmax || !rmin)
        return -1;
    uint16_t *rmax = rmin + sw;
    for (int ty = 0; ty < trows; ty++) {
        int y0 = ty * k, y1 = y0 + k < qh ? y0 + k : qh;
        memcpy(rmin, s + (size_t)y0 * (size_t)sw, (size_t)sw * sizeof(uint16_t));
        memcpy(rmax, rmin, (size_t)sw * sizeof(uint16_t));
        for (int y = y0 + 1; y < y1; y++) {
            const uint16_t *row = s + (size_t)y * (size_t)sw;
            for (int i = 0; i < sw; i++) {
                rmin[i] = row[i] < rmin[i] ? row[i] : rmin[i];
                rmax[i] = row[i] > rmax[i] ? row[i] : rmax[i];
            }
        }
        for (int tx = 0; tx < tcols; tx++) {
            int x0 = tx * k, x1 = x0 + k < qw ? x0 + k : qw;
            for (int c = 0; c < 3; c++) {
                int32_t mn = INT32_MAX, mx = 0;
                for (int x = x0; x < x1; x++) {
                    int32_t a = rmin[x * 3 + c], b = rmax[x * 3 + c];
                    mn = a < mn ? a : mn;
                    mx = b > mx ? b : mx;
                }
                size_t at = (size_t)c * plane + (size_t)ty * (size_t)tcols + (size_t)tx;
                tmin[at] = (float)mn;
                tmax[at] = (float)mx;
            }
        }
    }
    *tmin_out = tmin;
    *tmax_out = tmax;
    return 0;
}

/* The bound of one position from its own window sums; stops once above `stop`. */
static int64_t position_bound(const uint16_t *s, int qw, const block *b, int nb, int x, int y,
                              int64_t stop)
{
    int64_t lb = 0;
    for (int i = 0; i < nb; i++) {
        const uint16_t *w = s + ((size_t)(y + b[i].oy) * (size_t)qw + (size_t)(x + b[i].ox)) * 3;
        for (int c = 0; c < 3; c++) {
            int64_t d = (int64_t)b[i].sum[c] - (int64_t)w[c];
            lb += d * d;
        }
        if (lb > stop)
            return lb;
    }
    return lb;
}

/* The bound of every k x k group of positions, from the range of each block's window sums over
 * the group (a planar [c][ty][tx] tile map): acc[gy][gx], or a partial sum above `stop` for rows
 * of groups that all exceed it. In float: callers compare with a margin that covers its
 * rounding, so that no group is ruled out that exact arithmetic would keep. */
VECTORISE static void group_bounds(const block *blocks, int nb, int k, const float *tmin,
                                   const float *tmax, int tcols, int trows, int gcols, int grows,
                                   float stop, float *acc)
{
    size_t plane = (size_t)tcols * (size_t)trows;
    for (int gy = 0; gy < grows; gy++) {
        float *a = acc + (size_t)gy * (size_t)gcols;
        for (int gx = 0; gx < gcols; gx++)
            a[gx] = 0;
        if (stop < 0)
            continue;
        for (int i = 0; i < nb; i++) {
            const block *b = &blocks[i];
            size_t row = (size_t)(gy + b->oy / k) * (size_t)tcols + (size_t)(b->ox / k);
            for (int c = 0; c < 3; c++) {
                const float *mn = tmin + (size_t)c * plane + row;
                const float *mx = tmax + (size_t)c * plane + row;
                float v = (float)b->sum[c];
                for (int gx = 0; gx < gcols; gx++) {
                    float lo = mn[gx] - v, hi = v - mx[gx];
                    float g = lo > hi ? lo : hi;
                    g = g > 0 ? g : 0;
                    a[gx] += g * g;
                }
            }
            if (i % GROUP_CHECK == GROUP_CHECK - 1) {
                int any = 0;
                for (int gx = 0; gx < gcols; gx++)
                    any |= a[gx] <= stop;
                if (!any)
                    break;
            }
        }
    }
}

static int choose_k(const problem *p, const uint8_t *mask, block *blocks, int *nb)
{
    long opaque = 0;
    for (long i = 0; i < (long)p->tw * p->th; i++)
        opaque += !mask || mask[i];
    int best_k = 0, best_n = 0;
    double best_cover = 0;
    for (int k = 8; k >= 2; k /= 2) {
        if (p->tw < k || p->th < k)
            continue;
        int n = make_blocks(p, mask, k, blocks);
        double cover = opaque ? (double)n * k * k / (double)opaque : 0;
        if (cover >= 0.5) {
            *nb = n;
            return k;
        }
        if (cover > best_cover) {
            best_cover = cover;
            best_k = k;
            best_n = n;
        }
    }
    if (best_k)
        *nb = make_blocks(p, mask, best_k, blocks);
    else
        *nb = best_n;
    return best_k;
}

int stbt_sqdiff_search(const uint8_t *frame, int width, int height, ptrdiff_t stride,
                       const uint8_t *tmpl, const uint8_t *mask, int tw, int th, int64_t limit,
                       const int32_t *excl, int n_excl, int32_t *x, int32_t *y, int64_t *ssd)
{
    if (!frame || !tmpl || tw < 1 || th < 1 || tw > width || th > height || tw > MAX_TW ||
        stride < (ptrdiff_t)width * 3 || n_excl < 0 || (n_excl && !excl))
        return -1;
    problem p = {frame, stride, tmpl, NULL, tw, th, excl, n_excl};
    size_t tn = (size_t)tw * (size_t)th;
    if (mask) {
        uint8_t *m3 = ws_get(WS_MASK, tn * 3);
        if (!m3)
            return -1;
        for (size_t i = 0; i < tn; i++)
            m3[3 * i] = m3[3 * i + 1] = m3[3 * i + 2] = mask[i] != 0;
        p.mask3 = m3;
    }
    int npx = width - tw + 1, npy = height - th + 1;
    block *blocks = ws_get(WS_BLOCKS, (tn / 4 + 1) * sizeof(block));
    if (!blocks)
        return -1;
    int nb = 0, k = choose_k(&p, mask, blocks, &nb), bx = -1, by = -1;
    if (!k || !nb)
        return brute_force(&p, npx, npy, limit, x, y, ssd);

    uint16_t *s;
    int qw = width - k + 1, qh = height - k + 1;
    if (window_sums(&p, width, height, k, &s))
        return -1;
    int tcols = (qw + k - 1) / k, trows = (qh + k - 1) / k;
    int gcols = (npx + k - 1) / k, grows = (npy + k - 1) / k;
    float *tmin, *tmax;
    if (tile_ranges(s, qw, qh, k, tcols, trows, &tmin, &tmax))
        return -1;
    size_t n_groups = (size_t)gcols * (size_t)grows;
    float *acc = ws_get(WS_ACC, n_groups * sizeof(float));
    if (!acc)
        return -1;

    /* Bounds are sums of squared block-sum differences: k^2 times a bound of the sum. */
    int64_t k2 = (int64_t)k * k;
    int64_t stop = limit < 0 ? -1 : mul_clamp(limit, k2);
    /* A float sum of n terms, each rounded too, is within (n + 1) * 2^-24 of the exact sum,
     * relatively; twice that covers it and the rounding of `stop` to float. */
    double margin = (3.0 * nb + 2) * 0x1p-23;
    float fstop = stop < 0 ? -1.0f : (float)((double)stop * (1 + margin));
    group_bounds(blocks, nb, k, tmin, tmax, tcols, trows, gcols, grows, fstop, acc);

    /* Best first: the groups whose bound allows a position within the limit, smallest bound
     * first; once a group's bound is above the best sum found, no later group can beat it. */
    size_t n_cands = 0;
    cand *order = ws_get(WS_CANDS, n_groups * sizeof(cand));
    if (!order)
        return -1;
    for (int gy = 0; gy < grows; gy++) {
        for (int gx = 0; gx < gcols; gx++) {
            /* the float sum, made a bound again by taking off its possible rounding */
            double a = acc[(size_t)gy * (size_t)gcols + (size_t)gx] / (1 + margin);
            if (a <= (double)stop)
                order[n_cands++] = (cand){(int64_t)a, gx, gy};
        }
    }
    qsort(order, n_cands, sizeof(cand), cand_cmp);
    int found = 0;
    int64_t best = limit, near_lb = INT64_MAX;
    for (size_t i = 0; i < n_cands; i++) {
        int64_t cap = found ? mul_clamp(best, k2) : stop;
        if (order[i].lb > cap)
            break;
        int gx = order[i].x, gy = order[i].y;
        for (int py = gy * k; py < gy * k + k && py < npy; py++) {
            for (int px = gx * k; px < gx * k + k && px < npx; px++) {
                cap = found ? mul_clamp(best, k2) : stop;
                int64_t lb = position_bound(s, qw, blocks, nb, px, py, cap);
                if (lb < near_lb) {
                    near_lb = lb;
                    *x = px;
                    *y = py;
                }
                /* lb <= sum * k^2: above `cap` nothing beats the best; at it only a tie does,
                 * and a tie wins only from an earlier position */
                if (lb > cap || excluded(&p, px, py))
                    continue;
                if (found && lb == cap && (py > by || (py == by && px > bx)))
                    continue;
                int64_t v = ssd_at(&p, px, py, best);
                if (v > best)
                    continue;
                if (!found || v < best || py < by || (py == by && px < bx)) {
                    found = 1;
                    best = v;
                    bx = px;
                    by = py;
                }
            }
        }
    }
    if (found) {
        *x = bx;
        *y = by;
        *ssd = best;
        return 1;
    }
    if (near_lb != INT64_MAX && !excluded(&p, *x, *y)) {
        *ssd = ssd_at(&p, *x, *y, INT64_MAX);
        return 0;
    }
    int64_t near_group = INT64_MAX;
    int near_gx = -1, near_gy = -1;
    for (int gy = 0; gy < grows; gy++) {
        for (int gx = 0; gx < gcols; gx++) {
            double a = acc[(size_t)gy * (size_t)gcols + (size_t)gx];
            if (a < (double)near_group) {
                near_group = (int64_t)a;
                near_gx = gx;
                near_gy = gy;
            }
        }
    }

    /* Nothing within the limit: the position of smallest bound in the group of smallest
     * bound. */
    int64_t best_lb = INT64_MAX;
    *x = *y = -1;
    if (near_gx >= 0) {
        for (int py = near_gy * k; py < near_gy * k + k && py < npy; py++) {
            for (int px = near_gx * k; px < near_gx * k + k && px < npx; px++) {
                if (excluded(&p, px, py))
                    continue;
                int64_t lb = position_bound(s, qw, blocks, nb, px, py, INT64_MAX);
                if (lb < best_lb) {
                    best_lb = lb;
                    *x = px;
                    *y = py;
                }
            }
        }
    }
    if (*x < 0) {
        for (int py = 0; py < npy && *x < 0; py++) {
            for (int px = 0; px < npx; px++) {
                if (!excluded(&p, px, py)) {
                    *x = px;
                    *y = py;
                    break;
                }
            }
        }
    }
    *ssd = *x < 0 ? 0 : ssd_at(&p, *x, *y, INT64_MAX);
    return 0;
}
