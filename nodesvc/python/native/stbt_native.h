/* libstbt_native: the stbt module's C fast path, loaded by nodesvc/python/stbt/_native.py with
 * ctypes. No Python headers, no allocations the caller frees: every buffer is the caller's or a
 * per-thread workspace kept for the next call. */
#ifndef STBT_NATIVE_H
#define STBT_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/* The first pass of stbt.match with MatchMethod.SQDIFF: the position (x, y) of a th x tw BGR
 * reference `tmpl` in a height x width BGR `frame` (rows `stride` bytes apart, 3 bytes a pixel)
 * with the smallest sum of squared differences over the reference's opaque pixels (`mask`: th x
 * tw bytes, nonzero = opaque; NULL = all opaque), ties going to the first position in row-major
 * order, exactly as a full-resolution search finds it. Positions inside any of the `n_excl`
 * rectangles `excl` (x0, y0, x1, y1, exclusive ends, in position coordinates) are not considered.
 *
 * Only positions whose sum is at most `limit` can be the answer. Lower bounds from k x k block
 * sums (Cauchy-Schwarz), first for 8 x 8 groups of positions and then for single positions (a
 * row of a group at a time), rule out the rest without computing their sums. Blocks and rows
 * are taken in the order of their spread, so that bounds and sums pass the limit soonest; the
 * group that looks best after the first blocks is searched first, so that a reference that is
 * there tightens the limit for every other group at once.
 *
 * Returns 1 when some position's sum is at most `limit` (the best one in *x, *y, its sum in
 * *ssd); 0 when none is (*x, *y: a position whose lower bound was among the smallest, *ssd its
 * exact sum); -1 on bad arguments or no memory. */
int stbt_sqdiff_search(const uint8_t *frame, int width, int height, ptrdiff_t stride,
                       const uint8_t *tmpl, const uint8_t *mask, int tw, int th, int64_t limit,
                       const int32_t *excl, int n_excl, int32_t *x, int32_t *y, int64_t *ssd);

/* The exact sum of squared differences of `tmpl` (with `mask` as above) at (x, y) of `frame`. */
int64_t stbt_sqdiff_at(const uint8_t *frame, ptrdiff_t stride, const uint8_t *tmpl,
                       const uint8_t *mask, int tw, int th, int x, int y);

#endif
