/* sf_font: glyphs drawn where the font says, clipped to the plane, of any pixel size. */
#include "sf_font.h"
#include "test.h"

#include <stdint.h>

enum { W = 20, H = 12 };

static void test_a_glyph_is_its_rows_of_dots(void)
{
    uint8_t px[H][W] = {{0}};
    const sf_plane p = {&px[0][0], W, H, 1, W};
    sf_font_text(&p, 1, 2, 1, (const uint8_t[]){9}, "T");
    const sf_glyph *t = sf_font_glyph('T');
    CHECK(t != NULL && t->c == 'T');
    int same = 1;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            int in = t && x >= 1 && x < 1 + SF_GLYPH_W && y >= 2 && y < 2 + SF_GLYPH_H &&
                     t->rows[y - 2][x - 1] == '#';
            same &= px[y][x] == (in ? 9 : 0);
        }
    }
    CHECK(same);
    CHECK(sf_font_glyph('a') == NULL && sf_font_glyph('\n') == NULL);
}

static void test_drawing_is_clipped_to_the_plane(void)
{
    uint8_t px[H + 2][W] = {{0}}; /* a row of guard bytes past each end */
    const sf_plane p = {&px[1][0], W, H, 1, W};
    sf_font_fill(&p, -5, -5, W + 10, H + 10, (const uint8_t[]){1});
    sf_font_text(&p, W - 3, H - 4, 3, (const uint8_t[]){2}, "88");
    sf_font_text(&p, -40, -40, 3, (const uint8_t[]){2}, "8");
    int guards = 0, inside = 0;
    for (int x = 0; x < W; x++)
        guards += px[0][x] + px[H + 1][x];
    for (int y = 1; y <= H; y++) {
        for (int x = 0; x < W; x++)
            inside += px[y][x] != 0;
    }
    CHECK(guards == 0 && inside == W * H);
    /* the 8's second row of dots, "#...#", begins in the last 3 columns of the last row */
    CHECK(px[H][W - 3] == 2 && px[H][W - 1] == 2 && px[H][W - 4] == 1);
}

static void test_pixels_of_several_bytes_and_widths(void)
{
    uint8_t px[H][W * 3] = {{0}};
    const sf_plane p = {&px[0][0], W, H, 3, W * 3};
    sf_font_fill(&p, 2, 3, 2, 1, (const uint8_t[]){1, 2, 3});
    CHECK(px[3][6] == 1 && px[3][7] == 2 && px[3][8] == 3 && px[3][11] == 3 && px[3][12] == 0);
    CHECK(sf_font_width(0, 2) == 0 && sf_font_width(1, 2) == 10 && sf_font_width(3, 2) == 34);
}

int main(void)
{
    RUN(test_a_glyph_is_its_rows_of_dots);
    RUN(test_drawing_is_clipped_to_the_plane);
    RUN(test_pixels_of_several_bytes_and_widths);
    return TEST_EXIT();
}
