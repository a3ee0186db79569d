#include "sf_lircd.h"
#include "test.h"
#include "vstb_render.h"
#include "vstb_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static vstb_state after(const char *const *keys)
{
    vstb_state s;
    vstb_state_init(&s);
    for (; *keys; keys++)
        vstb_state_press(&s, *keys);
    return s;
}

static uint64_t picture_hash(const vstb_state *s)
{
    static uint8_t rgb[VSTB_WIDTH * VSTB_HEIGHT * 3];
    memset(rgb, 0x55, sizeof(rgb));
    vstb_render(s, rgb);
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof(rgb); i++)
        h = (h ^ rgb[i]) * 1099511628211ull;
    return h;
}

static void test_menu_opens_and_back_returns_home(void)
{
    const char *menu[] = {"KEY_MENU", NULL};
    vstb_state s = after(menu);
    CHECK(s.screen == VSTB_MENU && s.menu_index == 0);
    vstb_state_press(&s, "KEY_BACK");
    CHECK(s.screen == VSTB_HOME);
}

static void test_highlight_moves_and_wraps(void)
{
    const char *keys[] = {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", NULL};
    vstb_state s = after(keys);
    CHECK(s.menu_index == 2);
    const char *up[] = {"KEY_MENU", "KEY_UP", NULL};
    s = after(up);
    CHECK(s.menu_index == VSTB_MENU_ITEMS - 1);
}

static void test_channels_change_by_keys_and_digits(void)
{
    const char *keys[] = {"KEY_TV", "KEY_CHANNELUP", "KEY_CHANNELUP", NULL};
    vstb_state s = after(keys);
    CHECK(s.screen == VSTB_LIVE && s.channel == 3);
    const char *down[] = {"KEY_TV", "KEY_CHANNELDOWN", NULL};
    s = after(down);
    CHECK(s.channel == 999);
    const char *digits[] = {"KEY_TV", "KEY_4", "KEY_2", NULL};
    s = after(digits);
    CHECK(s.channel == 1 && s.n_digits == 2);
    vstb_state_press(&s, "KEY_OK");
    CHECK(s.channel == 42 && s.n_digits == 0);
    const char *three[] = {"KEY_TV", "KEY_1", "KEY_2", "KEY_3", NULL};
    s = after(three);
    CHECK(s.channel == 123);
}

static void test_pause_and_play(void)
{
    const char *keys[] = {"KEY_TV", "KEY_PAUSE", NULL};
    vstb_state s = after(keys);
    CHECK(s.paused);
    vstb_state_press(&s, "KEY_PLAY");
    CHECK(!s.paused);
    vstb_state_press(&s, "KEY_PLAYPAUSE");
    CHECK(s.paused);
    vstb_state_press(&s, "KEY_CHANNELUP");
    CHECK(!s.paused);
}

static void test_unknown_keys_change_nothing(void)
{
    vstb_state s, before;
    vstb_state_init(&s);
    before = s;
    CHECK(vstb_state_press(&s, "KEY_TELEPORT") == 0);
    CHECK(!memcmp(&s, &before, sizeof(s)));
    CHECK(vstb_state_press(&s, "KEY_RED") == 1);
    CHECK(!memcmp(&s, &before, sizeof(s)));
}

static void test_same_state_same_pixels(void)
{
    const char *a[] = {"KEY_MENU", "KEY_DOWN", NULL};
    const char *b[] = {"KEY_TV", "KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_UP", NULL};
    vstb_state sa = after(a), sb = after(b);
    CHECK(picture_hash(&sa) == picture_hash(&sb));
    const char *home[] = {NULL};
    const char *back[] = {"KEY_MENU", "KEY_BACK", NULL};
    vstb_state h = after(home), hb = after(back);
    CHECK(picture_hash(&h) == picture_hash(&hb));
}

static void test_different_states_different_pixels(void)
{
    const char *const seqs[][6] = {
        {NULL},
        {"KEY_MENU", NULL},
        {"KEY_MENU", "KEY_DOWN", NULL},
        {"KEY_TV", NULL},
        {"KEY_TV", "KEY_CHANNELUP", NULL},
        {"KEY_TV", "KEY_PAUSE", NULL},
        {"KEY_TV", "KEY_4", NULL},
        {"KEY_POWER", NULL},
        {"KEY_MENU", "KEY_DOWN", "KEY_OK", NULL},             /* loading */
        {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_OK", NULL}, /* search */
        {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_OK", "KEY_RIGHT", NULL},
        {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_OK", "KEY_OK", NULL},
    };
    const size_t n = sizeof(seqs) / sizeof(seqs[0]);
    uint64_t h[sizeof(seqs) / sizeof(seqs[0])];
    for (size_t i = 0; i < n; i++) {
        vstb_state s = after(seqs[i]);
        h[i] = picture_hash(&s);
        for (size_t j = 0; j < i; j++)
            CHECK(h[i] != h[j]);
    }
}

static vstb_state loaded_guide(void)
{
    const char *keys[] = {"KEY_MENU", "KEY_DOWN", "KEY_OK", NULL};
    vstb_state s = after(keys);
    while (vstb_state_tick(&s)) {
    }
    return s;
}

static void test_guide_shows_after_an_animation_that_stops(void)
{
    const char *keys[] = {"KEY_MENU", "KEY_DOWN", "KEY_OK", NULL};
    vstb_state s = after(keys);
    CHECK(s.screen == VSTB_LOADING && vstb_state_animating(&s));
    uint64_t prev = picture_hash(&s);
    int ticks = 0;
    while (s.screen == VSTB_LOADING) {
        CHECK(vstb_state_tick(&s) == 1);
        uint64_t h = picture_hash(&s);
        CHECK(h != prev); /* it moves on every frame */
        prev = h;
        ticks++;
    }
    CHECK(ticks == VSTB_LOADING_TICKS);
    CHECK(s.screen == VSTB_GUIDE && s.guide_index == 0 && !vstb_state_animating(&s));
    vstb_state still = s;
    CHECK(vstb_state_tick(&s) == 0);
    CHECK(!memcmp(&s, &still, sizeof(s)) && picture_hash(&s) == prev);
    vstb_state home;
    vstb_state_init(&home);
    CHECK(vstb_state_tick(&home) == 0 && !vstb_state_animating(&home));
}

static void test_guide_highlight_moves_wraps_and_ok_tunes(void)
{
    vstb_state s = loaded_guide();
    uint64_t first = picture_hash(&s);
    vstb_state_press(&s, "KEY_DOWN");
    vstb_state_press(&s, "KEY_DOWN");
    CHECK(s.guide_index == 2 && picture_hash(&s) != first);
    vstb_state_press(&s, "KEY_OK");
    CHECK(s.screen == VSTB_LIVE && s.channel == 3);
    s = loaded_guide();
    vstb_state_press(&s, "KEY_UP");
    CHECK(s.guide_index == VSTB_GUIDE_ROWS - 1);
    vstb_state_press(&s, "KEY_DOWN");
    CHECK(s.guide_index == 0 && picture_hash(&s) == first);
}

static void test_back_leaves_loading_guide_and_search_for_the_menu(void)
{
    const char *loading[] = {"KEY_MENU", "KEY_DOWN", "KEY_OK", "KEY_BACK", NULL};
    vstb_state s = after(loading);
    CHECK(s.screen == VSTB_MENU && s.menu_index == VSTB_MENU_GUIDE && !vstb_state_animating(&s));
    s = loaded_guide();
    vstb_state_press(&s, "KEY_BACK");
    CHECK(s.screen == VSTB_MENU && s.menu_index == VSTB_MENU_GUIDE);
    const char *search[] = {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_OK",
                            "KEY_OK",   "KEY_BACK", NULL};
    s = after(search);
    CHECK(s.screen == VSTB_MENU && s.menu_index == VSTB_MENU_SEARCH);
    vstb_state_press(&s, "KEY_BACK");
    CHECK(s.screen == VSTB_HOME);
    /* the other items still do nothing */
    const char *settings[] = {"KEY_MENU", "KEY_UP", "KEY_UP", "KEY_OK", NULL};
    s = after(settings);
    CHECK(s.screen == VSTB_MENU && s.menu_index == 3);
}

static vstb_state search_screen(void)
{
    const char *keys[] = {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_OK", NULL};
    return after(keys);
}

static void press_all(vstb_state *s, const char *const *keys)
{
    for (; *keys; keys++)
        vstb_state_press(s, *keys);
}

static void test_search_keyboard_moves_without_wrapping(void)
{
    vstb_state s = search_screen();
    CHECK(s.screen == VSTB_SEARCH && s.search_key == 0 && !s.search_text[0]);
    const char *edge[] = {"KEY_LEFT", "KEY_UP", NULL};
    press_all(&s, edge);
    CHECK(s.search_key == 0);
    const char *to_f[] = {"KEY_RIGHT", "KEY_RIGHT", "KEY_RIGHT", "KEY_RIGHT",
                          "KEY_RIGHT", "KEY_RIGHT", NULL};
    press_all(&s, to_f);
    CHECK(s.search_key == 5); /* F: the end of the row */
    const char *to_clear[] = {"KEY_DOWN", "KEY_DOWN", "KEY_DOWN", "KEY_DOWN",
                              "KEY_DOWN", "KEY_DOWN", "KEY_DOWN", NULL};
    press_all(&s, to_clear);
    CHECK(s.search_key == VSTB_SEARCH_COLS * VSTB_SEARCH_ROWS + 2); /* CLEAR, and no further */
    vstb_state_press(&s, "KEY_RIGHT");
    CHECK(s.search_key == VSTB_SEARCH_COLS * VSTB_SEARCH_ROWS + 2);
    vstb_state_press(&s, "KEY_LEFT"); /* DEL */
    vstb_state_press(&s, "KEY_UP");   /* the grid key above DEL's left half: 7 */
    CHECK(s.search_key == (VSTB_SEARCH_ROWS - 1) * VSTB_SEARCH_COLS + 2);
    CHECK(vstb_search_grid[VSTB_SEARCH_ROWS - 1][2] == '7');
}

static void test_search_keyboard_types_deletes_and_clears(void)
{
    vstb_state s = search_screen();
    /* N E W S: N is row 2 col 1, E row 0 col 4, W row 3 col 4, S row 3 col 0 */
    const char *news[] = {"KEY_DOWN", "KEY_DOWN",  "KEY_RIGHT", "KEY_OK",    "KEY_UP",
                          "KEY_UP",   "KEY_RIGHT", "KEY_RIGHT", "KEY_RIGHT", "KEY_OK",
                          "KEY_DOWN", "KEY_DOWN",  "KEY_DOWN",  "KEY_OK",    "KEY_LEFT",
                          "KEY_LEFT", "KEY_LEFT",  "KEY_LEFT",  "KEY_OK",    NULL};
    press_all(&s, news);
    CHECK_STR(s.search_text, "NEWS");
    const char *space[] = {"KEY_DOWN", "KEY_DOWN", "KEY_DOWN", "KEY_OK", NULL};
    press_all(&s, space);
    CHECK_STR(s.search_text, "NEWS ");
    const char *del[] = {"KEY_RIGHT", "KEY_OK", "KEY_OK", NULL};
    press_all(&s, del);
    CHECK_STR(s.search_text, "NEW");
    vstb_state_press(&s, "KEY_RIGHT");
    vstb_state_press(&s, "KEY_OK");
    CHECK_STR(s.search_text, "");
    vstb_state_press(&s, "KEY_OK");
    CHECK_STR(s.search_text, "");
    s = search_screen();
    for (int i = 0; i < VSTB_SEARCH_MAX + 5; i++)
        vstb_state_press(&s, "KEY_OK");
    CHECK(strlen(s.search_text) == VSTB_SEARCH_MAX);
    /* the screen opens afresh */
    vstb_state_press(&s, "KEY_BACK");
    vstb_state_press(&s, "KEY_OK");
    CHECK(s.screen == VSTB_SEARCH && !s.search_text[0] && s.search_key == 0);
}

/* The demo test pack's vstb.lircd.conf names exactly the vstb's keys. */
static void test_demo_remote_has_exactly_the_vstb_keys(void)
{
    FILE *f = fopen(SF_SOURCE_DIR "/demo/test-pack/config/remote-control/vstb.lircd.conf", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char buf[16384];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    sf_lircd_conf *c = NULL;
    CHECK(sf_lircd_parse(buf, len, &c, NULL) == 0);
    const sf_lircd_remote *r = c ? sf_lircd_remote_find(c, "vstb") : NULL;
    CHECK(r != NULL);
    size_t n = 0;
    for (; vstb_keys[n]; n++)
        CHECK(r && sf_lircd_has_key(r, vstb_keys[n]));
    CHECK(r && r->n_keys == n);
    sf_lircd_free(c);
}

int main(void)
{
    RUN(test_menu_opens_and_back_returns_home);
    RUN(test_highlight_moves_and_wraps);
    RUN(test_channels_change_by_keys_and_digits);
    RUN(test_pause_and_play);
    RUN(test_unknown_keys_change_nothing);
    RUN(test_same_state_same_pixels);
    RUN(test_different_states_different_pixels);
    RUN(test_guide_shows_after_an_animation_that_stops);
    RUN(test_guide_highlight_moves_wraps_and_ok_tunes);
    RUN(test_back_leaves_loading_guide_and_search_for_the_menu);
    RUN(test_search_keyboard_moves_without_wrapping);
    RUN(test_search_keyboard_types_deletes_and_clears);
    RUN(test_demo_remote_has_exactly_the_vstb_keys);
    return TEST_EXIT();
}
