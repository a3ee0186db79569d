#include "vstb_render.h"

#include <stdio.h>
#include <string.h>

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static const rgb BG_HOME = {16, 32, 72}, BG_MENU = {24, 24, 32}, PANEL = {40, 44, 60},
                 HILITE = {230, 160, 20}, WHITE = {240, 240, 240}, GREY = {150, 150, 160},
                 BLACK = {0, 0, 0}, BANNER = {10, 10, 20};

/* A 5x7 font: each glyph is 7 rows of 5 columns, '#' set. */
typedef struct glyph {
    char c;
    const char *rows[7];
} glyph;

static const glyph FONT[] = {
    {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'D', {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
    {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
    {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
    {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
    {'Y', {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}},
    {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
    {'_', {".....", ".....", ".....", ".....", ".....", ".....", "#####"}},
    {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {'>', {"#....", ".#...", "..#..", "...#.", "..#..", ".#...", "#...."}},
    {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
};

static const glyph *glyph_of(char c)
{
    for (size_t i = 0; i < sizeof(FONT) / sizeof(FONT[0]); i++) {
        if (FONT[i].c == c)
            return &FONT[i];
    }
    return glyph_of(' ');
}

static void fill(uint8_t *img, int x, int y, int w, int h, rgb c)
{
    for (int j = y; j < y + h; j++) {
        if (j < 0 || j >= VSTB_HEIGHT)
            continue;
        for (int i = x; i < x + w; i++) {
            if (i < 0 || i >= VSTB_WIDTH)
                continue;
            uint8_t *p = img + ((size_t)j * VSTB_WIDTH + (size_t)i) * 3;
            p[0] = c.r;
            p[1] = c.g;
            p[2] = c.b;
        }
    }
}

/* Text at (x, y), each font pixel a scale x scale square. */
static void text(uint8_t *img, int x, int y, int scale, rgb c, const char *s)
{
    for (; *s; s++, x += 6 * scale) {
        const glyph *g = glyph_of(*s);
        for (int row = 0; row < 7; row++) {
            for (int col = 0; col < 5; col++) {
                if (g->rows[row][col] == '#')
                    fill(img, x + col * scale, y + row * scale, scale, scale, c);
            }
        }
    }
}

static int text_width(const char *s, int scale)
{
    return (int)strlen(s) * 6 * scale - scale;
}

static void render_home(uint8_t *img)
{
    fill(img, 0, 0, VSTB_WIDTH, VSTB_HEIGHT, BG_HOME);
    text(img, 80, 60, 8, WHITE, "STBFARM");
    text(img, 80, 140, 4, GREY, "VIRTUAL SET-TOP BOX");
    static const char *const tiles[] = {"LIVE TV", "GUIDE", "APPS"};
    static const rgb colors[] = {{180, 40, 40}, {40, 140, 60}, {60, 80, 180}};
    for (int i = 0; i < 3; i++) {
        int x = 80 + i * 390;
        fill(img, x, 300, 350, 220, colors[i]);
        text(img, x + 24, 470, 4, WHITE, tiles[i]);
    }
    text(img, 80, 620, 3, GREY, "PRESS MENU");
}

static void render_menu(const vstb_state *s, uint8_t *img)
{
    fill(img, 0, 0, VSTB_WIDTH, VSTB_HEIGHT, BG_MENU);
    text(img, 80, 50, 6, WHITE, "MENU");
    for (int i = 0; i < VSTB_MENU_ITEMS; i++) {
        int y = 160 + i * 100;
        int on = i == s->menu_index;
        fill(img, 80, y, 640, 80, on ? HILITE : PANEL);
        text(img, 110, y + 19, 6, on ? BLACK : WHITE, vstb_menu_items[i]);
        if (on)
            text(img, 660, y + 19, 6, BLACK, ">");
    }
}

/* The "programme" of a channel: vertical colour bars rotated by the channel number, so every
 * channel looks different. */
static void render_live(const vstb_state *s, uint8_t *img)
{
    static const rgb bars[] = {{235, 235, 235}, {235, 235, 16}, {16, 235, 235}, {16, 235, 16},
                               {235, 16, 235},  {235, 16, 16},  {16, 16, 235}};
    const int n = (int)(sizeof(bars) / sizeof(bars[0]));
    const int w = VSTB_WIDTH / n + 1;
    for (int i = 0; i < n; i++)
        fill(img, i * w, 0, w, VSTB_HEIGHT, bars[(i + s->channel) % n]);
    fill(img, 0, 560, VSTB_WIDTH, 160, BANNER);
    char label[32];
    if (s->n_digits == 1)
        snprintf(label, sizeof(label), "CH %d__", s->digits);
    else if (s->n_digits == 2)
        snprintf(label, sizeof(label), "CH %02d_", s->digits);
    else
        snprintf(label, sizeof(label), "CH %03d", s->channel);
    text(img, 60, 590, 10, WHITE, label);
    if (s->paused) {
        fill(img, 1040, 590, 30, 100, WHITE);
        fill(img, 1100, 590, 30, 100, WHITE);
        text(img, VSTB_WIDTH - 60 - text_width("PAUSED", 4), 40, 4, BLACK, "PAUSED");
    } else {
        text(img, 1040, 615, 5, HILITE, "LIVE");
    }
}

void vstb_render(const vstb_state *s, uint8_t *rgb_out)
{
    switch (s->screen) {
    case VSTB_HOME:
        render_home(rgb_out);
        break;
    case VSTB_MENU:
        render_menu(s, rgb_out);
        break;
    case VSTB_LIVE:
        render_live(s, rgb_out);
        break;
    case VSTB_STANDBY:
        fill(rgb_out, 0, 0, VSTB_WIDTH, VSTB_HEIGHT, BLACK);
        break;
    }
}
