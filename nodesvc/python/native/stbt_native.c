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
    const int *rows;      /* the reference's rows in the order sums take them, or NULL */
    int tw, th;
    const int32_t *excl;
    int n_excl;
} problem;

/* A k x k block of the reference that is opaque throughout: its offset, per-channel sums, and
 * spread (k^2 times the sum of its pixels' squared deviations from the block's mean). */
typedef struct block {
    int ox, oy;
    int32_t sum[3];
    int64_t spread;
} block;

/* Positions whose bounds are summed together (a row of a group of positions, k <= LANES): the
 * window sums of LANES neighbouring positions are 3 * LANES contiguous values. */
enum { LANES = 8, LANE_CHECK = 8 };

typedef struct keyed {
    double key;
    int i;
} keyed;

typedef struct cand {
    int64_t lb; /* lower bound of the sum, times k^2 */
    int32_t x, y;
} cand;

/* Per-thread buffers, grown as needed and kept: a match a frame must not fault in megabytes. */
enum {
    WS_MASK,
    WS_BLOCKS,
    WS_V,
    WS_S,
    WS_TMIN,
    WS_TMAX,
    WS_ACC,
    WS_CANDS,
    WS_ROWMIN,
    WS_ROWS,
    WS_SPREAD,
    WS_LANES,
    WS_N
};
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

/* The sum at (x, y), or some partial sum above `bound` as soon as it exceeds it (rows in the
 * order p->rows gives: the ones that differ most from place to place first). */
VECTORISE static int64_t ssd_at(const problem *p, int x, int y, int64_t bound)
{
    int n = p->tw * 3;
    int64_t s = 0;
    for (int r = 0; r < p->th; r++) {
        int i = p->rows ? p->rows[r] : r;
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
            block b = {bx, by, {0, 0, 0}, 0};
            int64_t sq = 0;
            int opaque = 1;
            for (int i = 0; i < k && opaque; i++) {
                for (int j = 0; j < k; j++) {
                    size_t at = (size_t)(by + i) * (size_t)p->tw + (size_t)(bx + j);
                    if (mask && !mask[at]) {
                        opaque = 0;
                        break;
                    }
                    for (int c = 0; c < 3; c++) {
                        int v = p->tmpl[at * 3 + (size_t)c];
                        b.sum[c] += v;
                        sq += v * v;
                    }
                }
            }
            if (!opaque)
                continue;
            b.spread = sq * k * k;
            for (int c = 0; c < 3; c++)
                b.spread -= (int64_t)b.sum[c] * b.sum[c];
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
    /* lane_bounds reads up to 3 * LANES values past the last window */
    uint16_t *s = ws_get(WS_S, ((size_t)qh * (size_t)sw + 3 * LANES) * sizeof(uint16_t));
    if (!v || !s)
        return -1;
    memset(s + (size_t)qh * (size_t)sw, 0, 3 * LANES * sizeof(uint16_t));
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

/* The bounds of the LANES positions (x .. x + LANES - 1, y) from their own window sums: lb[j],
 * or partial sums above `stop` once every one of them is. `lanes` has each block's sums
 * repeated for the lanes, 3 * LANES a block; s is readable 3 * LANES values past its end. A
 * block's d^2 is at most (64 * 255)^2, so LANE_CHECK = 8 of them add up in int32. */
VECTORISE static void lane_bounds(const uint16_t *s, int qw, const block *b, const int32_t *lanes,
                                  int nb, int x, int y, int64_t stop, int64_t *lb)
{
    int64_t acc[3 * LANES] = {0};
    for (int i0 = 0; i0 < nb; i0 += LANE_CHECK) {
        int32_t part[3 * LANES] = {0};
        for (int i = i0; i < i0 + LANE_CHECK && i < nb; i++) {
            const uint16_t *w =
                s + ((size_t)(y + b[i].oy) * (size_t)qw + (size_t)(x + b[i].ox)) * 3;
            const int32_t *t = lanes + (size_t)i * 3 * LANES;
            for (int j = 0; j < 3 * LANES; j++) {
                int32_t d = t[j] - (int32_t)w[j];
                part[j] += d * d;
            }
        }
        int all = 1;
        for (int j = 0; j < 3 * LANES; j++)
            acc[j] += part[j];
        for (int j = 0; j < LANES; j++) {
            lb[j] = acc[3 * j] + acc[3 * j + 1] + acc[3 * j + 2];
            all &= lb[j] > stop;
        }
        if (all)
            return;
    }
}

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int block_cmp(const void *a, const void *b)
{
    const block *x = a, *y = b;
    if (x->spread != y->spread)
        return x->spread > y->spread ? -1 : 1;
    if (x->oy != y->oy)
        return x->oy < y->oy ? -1 : 1;
    return (x->ox > y->ox) - (x->ox < y->ox);
}

/* The reference's rows, most spread first (the sum of their opaque values' squared deviations
 * from the row's mean, per channel): a position that is off by a few pixels differs most in
 * them, so the sums there exceed their bound soonest. */
static const int *row_order(const problem *p)
{
    int *rows = ws_get(WS_ROWS, (size_t)p->th * sizeof(int));
    keyed *k = ws_get(WS_SPREAD, (size_t)p->th * sizeof(keyed));
    if (!rows || !k)
        return NULL;
    int n = p->tw * 3;
    for (int i = 0; i < p->th; i++) {
        double sum[3] = {0}, sq = 0, cnt[3] = {0}, key = 0;
        for (int j = 0; j < n; j++) {
            if (p->mask3 && !p->mask3[(size_t)i * (size_t)n + (size_t)j])
                continue;
            double v = p->tmpl[(size_t)i * (size_t)n + (size_t)j];
            sum[j % 3] += v;
            cnt[j % 3] += 1;
            sq += v * v;
        }
        for (int c = 0; c < 3; c++)
            key -= cnt[c] ? sum[c] * sum[c] / cnt[c] : 0;
        k[i] = (keyed){sq + key, i};
    }
    qsort(k, (size_t)p->th, sizeof(keyed), keyed_cmp);
    for (int i = 0; i < p->th; i++)
        rows[i] = k[i].i;
    return rows;
}

/* One block's terms of the bounds of groups gx in [x0, x1) of a row: a[gx] += the squared
 * distance of the block's sum from the range of the window sums it meets over each group. */
VECTORISE static void group_terms(const block *b, const float *mn, const float *mx, size_t plane,
                                  int x0, int x1, float *a)
{
    for (int c = 0; c < 3; c++) {
        const float *lo_c = mn + (size_t)c * plane, *hi_c = mx + (size_t)c * plane;
        float v = (float)b->sum[c];
        for (int gx = x0; gx < x1; gx++) {
            float lo = lo_c[gx] - v, hi = v - hi_c[gx];
            float g = lo > hi ? lo : hi;
            g = g > 0 ? g : 0;
            a[gx] += g * g;
        }
    }
}

/* Blocks [i0, i1) of the bound of every k x k group of positions, from the range of each
 * block's window sums over the group (a planar [c][ty][tx] tile map), added to acc[gy][gx]
 * (i0 = 0: set). Each row of groups is summed block by block over the span of its groups still
 * at most `stop`, narrowed first and every GROUP_CHECK blocks: a group is finished as soon as its
 * bound passes `stop`, the row as soon as all its groups have, leaving partial sums above
 * `stop`. In float: callers compare with a margin that covers its rounding, so that no group is
 * ruled out that exact arithmetic would keep. */
static void group_bounds(const block *blocks, int i0, int i1, int k, const float *tmin,
                         const float *tmax, int tcols, int trows, int gcols, int grows, float stop,
                         float *acc)
{
    size_t plane = (size_t)tcols * (size_t)trows;
    for (int gy = 0; gy < grows; gy++) {
        float *a = acc + (size_t)gy * (size_t)gcols;
        if (i0 == 0)
            memset(a, 0, (size_t)gcols * sizeof(float));
        if (stop < 0)
            continue;
        int x0 = 0, x1 = gcols; /* the span of groups still within `stop` */
        for (int i = i0; i < i1 && x0 < x1; i++) {
            if (i == i0 || i % GROUP_CHECK == 0) {
                while (x0 < x1 && a[x0] > stop)
                    x0++;
                while (x1 > x0 && a[x1 - 1] > stop)
                    x1--;
            }
            const block *b = &blocks[i];
            size_t row = (size_t)(gy + b->oy / k) * (size_t)tcols + (size_t)(b->ox / k);
            group_terms(b, tmin + row, tmax + row, plane, x0, x1, a);
        }
    }
}

/* The search of positions for the best sum: what every group's search needs, and the best so
 * far. */
typedef struct search {
    const problem *p;
    const uint16_t *s; /* window sums, qw a row */
    int qw, npx, npy, k, nb;
    const block *blocks;
    const int32_t *lanes;
    int64_t k2, stop; /* stop: the bound of sums within the limit, times k^2 */
    int found;
    int64_t best; /* the limit, then the best sum found */
    int bx, by;
    int64_t near_lb; /* the smallest bound met, at (nx, ny) */
    int nx, ny;
} search;

/* The bound a position's sum must be within to beat the best: times k^2. */
static int64_t cap_of(const search *q)
{
    return q->found ? mul_clamp(q->best, q->k2) : q->stop;
}

/* Every position of group (gx, gy): those whose bound allows beating the best get their sums. */
static void search_group(search *q, int gx, int gy)
{
    int k = q->k;
    for (int py = gy * k; py < gy * k + k && py < q->npy; py++) {
        int64_t lbs[LANES];
        lane_bounds(q->s, q->qw, q->blocks, q->lanes, q->nb, gx * k, py, cap_of(q), lbs);
        for (int px = gx * k; px < gx * k + k && px < q->npx; px++) {
            /* partial bounds above the cap of the row's start are above this one too */
            int64_t cap = cap_of(q), lb = lbs[px - gx * k];
            if (lb < q->near_lb) {
                q->near_lb = lb;
                q->nx = px;
                q->ny = py;
            }
            /* lb <= sum * k^2: above `cap` nothing beats the best; at it only a tie does, and
             * a tie wins only from an earlier position */
            if (lb > cap || excluded(q->p, px, py))
                continue;
            if (q->found && lb == cap && (py > q->by || (py == q->by && px > q->bx)))
                continue;
            int64_t v = ssd_at(q->p, px, py, q->best);
            if (v > q->best)
                continue;
            if (!q->found || v < q->best || py < q->by || (py == q->by && px < q->bx)) {
                q->found = 1;
                q->best = v;
                q->bx = px;
                q->by = py;
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
    problem p = {frame, stride, tmpl, NULL, NULL, tw, th, excl, n_excl};
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
    if (!(p.rows = row_order(&p)))
        return -1;
    int nb = 0, k = choose_k(&p, mask, blocks, &nb);
    if (!k || !nb)
        return brute_force(&p, npx, npy, limit, x, y, ssd);
    /* the blocks that differ most from place to place first: bounds grow fastest with them */
    qsort(blocks, (size_t)nb, sizeof(block), block_cmp);
    int32_t *lanes = ws_get(WS_LANES, (size_t)nb * 3 * LANES * sizeof(int32_t));
    if (!lanes)
        return -1;
    for (int i = 0; i < nb; i++) {
        for (int j = 0; j < 3 * LANES; j++)
            lanes[(size_t)i * 3 * LANES + (size_t)j] = blocks[i].sum[j % 3];
    }

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
    search q = {.p = &p,
                .s = s,
                .qw = qw,
                .npx = npx,
                .npy = npy,
                .k = k,
                .nb = nb,
                .blocks = blocks,
                .lanes = lanes,
                .k2 = k2,
                .stop = stop,
                .best = limit,
                .bx = -1,
                .by = -1,
                .near_lb = INT64_MAX,
                .nx = -1,
                .ny = -1};
    /* A float sum of n terms, each rounded too, is within (n + 1) * 2^-24 of the exact sum,
     * relatively; twice that covers it and the rounding of `stop` to float. */
    double margin = (3.0 * nb + 2) * 0x1p-23;
    float fstop = stop < 0 ? -1.0f : (float)((double)stop * (1 + margin));
    /* The first blocks of every group's bound; then the group that looks best so far is
     * searched at once: when the reference is there, its sum (0 for an exact copy) is a far
     * tighter stop for the rest of the groups' bounds than the limit. */
    int first = nb < GROUP_CHECK ? nb : GROUP_CHECK, probe_gx = -1, probe_gy = -1;
    group_bounds(blocks, 0, first, k, tmin, tmax, tcols, trows, gcols, grows, fstop, acc);
    float probe = fstop;
    for (int gy = 0; gy < grows; gy++) {
        for (int gx = 0; gx < gcols; gx++) {
            float a = acc[(size_t)gy * (size_t)gcols + (size_t)gx];
            if (a <= probe && (probe_gx < 0 || a < probe)) {
                probe = a;
                probe_gx = gx;
                probe_gy = gy;
            }
        }
    }
    if (probe_gx >= 0)
        search_group(&q, probe_gx, probe_gy);
    if (q.found)
        fstop = (float)((double)cap_of(&q) * (1 + margin));
    group_bounds(blocks, first, nb, k, tmin, tmax, tcols, trows, gcols, grows, fstop, acc);

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
            if (a <= (double)cap_of(&q) && (gx != probe_gx || gy != probe_gy))
                order[n_cands++] = (cand){(int64_t)a, gx, gy};
        }
    }
    qsort(order, n_cands, sizeof(cand), cand_cmp);
    for (size_t i = 0; i < n_cands && order[i].lb <= cap_of(&q); i++)
        search_group(&q, order[i].x, order[i].y);
    int found = q.found;
    int64_t best = q.best, near_lb = q.near_lb;
    int bx = q.bx, by = q.by;
    *x = q.nx;
    *y = q.ny;
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
            int64_t lbs[LANES];
            lane_bounds(s, qw, blocks, lanes, nb, near_gx * k, py, INT64_MAX, lbs);
            for (int px = near_gx * k; px < near_gx * k + k && px < npx; px++) {
                if (excluded(&p, px, py))
                    continue;
                int64_t lb = lbs[px - near_gx * k];
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
