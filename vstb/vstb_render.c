#include "vstb_render.h"

#include "sf_font.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static const rgb BG_HOME = {16, 32, 72}, BG_MENU = {24, 24, 32}, PANEL = {40, 44, 60},
                 HILITE = {230, 160, 20}, WHITE = {240, 240, 240}, GREY = {150, 150, 160},
                 BLACK = {0, 0, 0}, BANNER = {10, 10, 20};

/* Glyphs the smooth text draws differently from the shared font (sf_font.h), where the blocky
 * one reads badly to OCR: a V that narrows sooner (else it reads as U or Y). The zero is the O,
 * drawn narrower (SMOOTH_ZERO). */
static const sf_glyph SMOOTH[] = {
    {'V', {"#...#", "#...#", "#...#", ".#.#.", ".#.#.", ".#.#.", "..#.."}},
    {'0', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
};
#define SMOOTH_ZERO 0.72 /* the zero's width, of the O's */

static const sf_glyph *glyph_of(char c)
{
    const sf_glyph *g = sf_font_glyph(c);
    return g ? g : sf_font_glyph(' ');
}

static sf_plane screen(uint8_t *img)
{
    return (sf_plane){img, VSTB_WIDTH, VSTB_HEIGHT, 3, (size_t)VSTB_WIDTH * 3};
}

static void fill(uint8_t *img, int x, int y, int w, int h, rgb c)
{
    const sf_plane p = screen(img);
    sf_font_fill(&p, x, y, w, h, (const uint8_t[]){c.r, c.g, c.b});
}

/* Text at (x, y), each font pixel a scale x scale square. */
static void text(uint8_t *img, int x, int y, int scale, rgb c, const char *s)
{
    const sf_plane p = screen(img);
    sf_font_text(&p, x, y, scale, (const uint8_t[]){c.r, c.g, c.b}, s);
}

static int text_width(const char *s, int scale)
{
    return sf_font_width(strlen(s), scale);
}

/* Blend c over the pixel at (x, y) by coverage a (0..1). */
static void blend(uint8_t *img, int x, int y, rgb c, float a)
{
    if (x < 0 || x >= VSTB_WIDTH || y < 0 || y >= VSTB_HEIGHT || a <= 0)
        return;
    uint8_t *p = img + ((size_t)y * VSTB_WIDTH + (size_t)x) * 3;
    const uint8_t v[3] = {c.r, c.g, c.b};
    for (int i = 0; i < 3; i++)
        p[i] = (uint8_t)lrintf((float)p[i] + ((float)v[i] - (float)p[i]) * a);
}

enum { MAX_STROKES = 5 * 7 * 5, SMOOTH_CELL_MAX = 16 };

typedef struct stroke {
    float ax, ay, bx, by;
} stroke;

/* The strokes of a glyph in dot units (dot centres at .5): every set dot, joined to each set
 * neighbour to its right or below, and diagonally where no two orthogonal joins already
 * turn that corner. */
static int strokes_of(char c, stroke *out)
{
    const sf_glyph *g = glyph_of(c);
    for (size_t i = 0; i < sizeof(SMOOTH) / sizeof(SMOOTH[0]); i++) {
        if (SMOOTH[i].c == c)
            g = &SMOOTH[i];
    }
    const float narrow = c == '0' ? (float)SMOOTH_ZERO : 1.0f;
#define DOT(x, y) ((x) >= 0 && (x) < 5 && (y) >= 0 && (y) < 7 && g->rows[y][x] == '#')
    static const int dirs[4][2] = {{1, 0}, {0, 1}, {1, 1}, {-1, 1}};
    int n = 0;
    for (int y = 0; y < 7; y++) {
        for (int x = 0; x < 5; x++) {
            if (!DOT(x, y))
                continue;
            for (int d = -1; d < 4; d++) {
                int dx = d < 0 ? 0 : dirs[d][0], dy = d < 0 ? 0 : dirs[d][1];
                if (d >= 0 && !DOT(x + dx, y + dy))
                    continue;
                if (dx && dy && (DOT(x + dx, y) || DOT(x, y + dy)))
                    continue;
                out[n++] =
                    (stroke){(((float)x - 2) * narrow + 2.5f), (float)y + 0.5f,
                             (((float)(x + dx) - 2) * narrow + 2.5f), (float)(y + dy) + 0.5f};
            }
        }
    }
#undef DOT
    return n;
}

/* Text for OCR: each glyph's dots joined into strokes 1.1 dots thick with anti-aliased edges,
 * on a pitch of `cell` pixels per dot. The blocky text() of the original screens stays as it
 * was, so that their pictures never change. */
static void smooth_text(uint8_t *img, int x, int y, int cell, rgb c, const char *s)
{
    const float r = 0.55f * (float)cell;
    enum { W = 5 * SMOOTH_CELL_MAX + 2, H = 7 * SMOOTH_CELL_MAX + 2 };
    float cover[H][W];
    if (cell > SMOOTH_CELL_MAX)
        cell = SMOOTH_CELL_MAX;
    for (; *s; s++, x += 6 * cell) {
        stroke st[MAX_STROKES];
        int n = strokes_of(*s, st);
        memset(cover, 0, sizeof(cover));
        for (int i = 0; i < n; i++) {
            float ax = st[i].ax * (float)cell + 1, ay = st[i].ay * (float)cell + 1;
            float vx = (st[i].bx - st[i].ax) * (float)cell,
                  vy = (st[i].by - st[i].ay) * (float)cell;
            float len2 = vx * vx + vy * vy;
            int x0 = (int)floorf(fminf(ax, ax + vx) - r - 1),
                x1 = (int)ceilf(fmaxf(ax, ax + vx) + r + 1);
            int y0 = (int)floorf(fminf(ay, ay + vy) - r - 1),
                y1 = (int)ceilf(fmaxf(ay, ay + vy) + r + 1);
            for (int py = y0 < 0 ? 0 : y0; py < y1 && py < H; py++) {
                for (int px = x0 < 0 ? 0 : x0; px < x1 && px < W; px++) {
                    float qx = (float)px + 0.5f - ax, qy = (float)py + 0.5f - ay;
                    float t = len2 > 0 ? (qx * vx + qy * vy) / len2 : 0;
                    t = t < 0 ? 0 : t > 1 ? 1 : t;
                    float a = r + 0.5f - hypotf(qx - t * vx, qy - t * vy);
                    a = a > 1 ? 1 : a;
                    if (a > cover[py][px])
                        cover[py][px] = a;
                }
            }
        }
        for (int py = 0; py < H; py++) {
            for (int px = 0; px < W; px++)
                blend(img, x + px - 1, y + py - 1, c, cover[py][px]);
        }
    }
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

static void disc(uint8_t *img, int cx, int cy, int radius, rgb c)
{
    for (int y = -radius; y <= radius; y++) {
        for (int x = -radius; x <= radius; x++) {
            if (x * x + y * y <= radius * radius)
                fill(img, cx + x, cy + y, 1, 1, c);
        }
    }
}

/* The loading screen: a progress bar that fills and a ring of dots that turns, every frame. */
static void render_loading(const vstb_state *s, uint8_t *img)
{
    fill(img, 0, 0, VSTB_WIDTH, VSTB_HEIGHT, BG_MENU);
    smooth_text(img, 80, 50, 8, WHITE, "GUIDE");
    smooth_text(img, (VSTB_WIDTH - text_width("LOADING", 6)) / 2, 250, 6, WHITE, "LOADING");
    const int bar_x = 240, bar_w = 800;
    fill(img, bar_x, 360, bar_w, 40, PANEL);
    fill(img, bar_x, 360, bar_w * (s->loading_tick + 1) / VSTB_LOADING_TICKS, 40, HILITE);
    enum { DOTS = 8 };
    for (int i = 0; i < DOTS; i++) {
        double a = 2 * M_PI * i / DOTS;
        disc(img, 640 + (int)lround(70 * sin(a)), 530 - (int)lround(70 * cos(a)), 14,
             i == s->loading_tick % DOTS ? HILITE : GREY);
    }
}

/* The guide: a row per channel, "NNN  TITLE", and the highlighted title again below. */
static void render_guide(const vstb_state *s, uint8_t *img)
{
    fill(img, 0, 0, VSTB_WIDTH, VSTB_HEIGHT, BG_MENU);
    smooth_text(img, 80, 50, 8, WHITE, "GUIDE");
    for (int i = 0; i < VSTB_GUIDE_ROWS; i++) {
        int y = 140 + i * 78, on = i == s->guide_index;
        char row[64];
        snprintf(row, sizeof(row), "%03d  %s", i + 1, vstb_guide_titles[i]);
        fill(img, 80, y, 1120, 66, on ? HILITE : PANEL);
        smooth_text(img, 110, y + 15, 5, on ? BLACK : WHITE, row);
    }
    fill(img, 80, 622, 1120, 76, BANNER);
    smooth_text(img, 110, 638, 6, HILITE, vstb_guide_titles[s->guide_index]);
}

/* The search screen: the text field, the keyboard, and the titles that contain the text. */
static void render_search(const vstb_state *s, uint8_t *img)
{
    enum { KX = 80, KY = 204, STEP_X = 88, STEP_Y = 60, KEY_W = 80, KEY_H = 52 };
    fill(img, 0, 0, VSTB_WIDTH, VSTB_HEIGHT, BG_MENU);
    smooth_text(img, 80, 40, 8, WHITE, "SEARCH");
    fill(img, 80, 120, 520, 64, BLACK);
    smooth_text(img, 96, 138, 4, WHITE, s->search_text);
    for (int k = 0; k < VSTB_SEARCH_KEYS; k++) {
        int on = k == s->search_key, row = k / VSTB_SEARCH_COLS, col = k % VSTB_SEARCH_COLS;
        int x = KX + col * STEP_X, y = KY + row * STEP_Y, w = KEY_W, cell = 5;
        char label[8] = {0};
        if (row < VSTB_SEARCH_ROWS) {
            label[0] = vstb_search_grid[row][col];
        } else { /* the wide keys */
            int span = VSTB_SEARCH_COLS / VSTB_SEARCH_WIDE;
            x = KX + col * span * STEP_X;
            w = span * STEP_X - (STEP_X - KEY_W);
            cell = 4;
            snprintf(label, sizeof(label), "%s", vstb_search_wide[col]);
        }
        fill(img, x, y, w, KEY_H, on ? HILITE : PANEL);
        smooth_text(img, x + (w - text_width(label, cell)) / 2, y + (KEY_H - 7 * cell) / 2, cell,
                    on ? BLACK : WHITE, label);
    }
    smooth_text(img, 720, 130, 5, GREY, "RESULTS");
    int found = 0;
    for (int i = 0; s->search_text[0] && i < VSTB_GUIDE_ROWS; i++) {
        if (strstr(vstb_guide_titles[i], s->search_text))
            smooth_text(img, 720, 200 + 60 * found++, 4, WHITE, vstb_guide_titles[i]);
    }
    if (!found)
        smooth_text(img, 720, 200, 4, GREY, s->search_text[0] ? "NO RESULTS" : "TYPE TO SEARCH");
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
    case VSTB_LOADING:
        render_loading(s, rgb_out);
        break;
    case VSTB_GUIDE:
        render_guide(s, rgb_out);
        break;
    case VSTB_SEARCH:
        render_search(s, rgb_out);
        break;
    }
}
