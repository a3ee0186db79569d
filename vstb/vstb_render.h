/* vstb_render.h - the vstb's picture for a state, drawn into a packed RGB24 buffer. Pure and
 * deterministic: the same state always gives the same bytes, which is what lets tests compare
 * screenshots against reference images. */
#ifndef VSTB_RENDER_H
#define VSTB_RENDER_H

#include "vstb_state.h"

#include <stdint.h>

#define VSTB_WIDTH  1280
#define VSTB_HEIGHT 720

/* Draw s into rgb (VSTB_WIDTH * VSTB_HEIGHT * 3 bytes, rows of VSTB_WIDTH * 3). */
void vstb_render(const vstb_state *s, uint8_t *rgb);

#endif
