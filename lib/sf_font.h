/* sf_font.h - a 5x7 bitmap font (A-Z, 0-9, space and - _ : . >) and drawing with it into 8-bit
 * pixel planes: the vstb's screens are drawn with it, and the node agent writes stbt.draw_text's
 * texts onto recordings with it. Glyphs are drawn on a pitch of 6 dots (a dot's gap between
 * characters); each dot is a scale x scale square. */
#ifndef SF_FONT_H
#define SF_FONT_H

#include <stddef.h>
#include <stdint.h>

enum { SF_GLYPH_W = 5, SF_GLYPH_H = 7, SF_GLYPH_PITCH = 6 };

typedef struct sf_glyph {
    char c;
    const char *rows[SF_GLYPH_H]; /* SF_GLYPH_W characters each, '#' set */
} sf_glyph;

/* The glyph of c, or NULL when the font has none (it has no lower case). Static storage. */
const sf_glyph *sf_font_glyph(char c);

/* An image to draw into: w x h pixels of bpp bytes each (bpp <= 4), rows stride bytes apart. */
typedef struct sf_plane {
    uint8_t *px;
    int w, h, bpp;
    size_t stride;
} sf_plane;

/* Set the pixels of the w x h rectangle at (x, y) to the bpp bytes of value, clipped to p. */
void sf_font_fill(const sf_plane *p, int x, int y, int w, int h, const uint8_t *value);

/* Draw s with its top left corner at (x, y), clipped to p: the dots of each glyph get value;
 * characters without a glyph are drawn as spaces. */
void sf_font_text(const sf_plane *p, int x, int y, int scale, const uint8_t *value, const char *s);

/* The width in pixels of n characters at scale (without the gap after the last). */
int sf_font_width(size_t n, int scale);

#endif
